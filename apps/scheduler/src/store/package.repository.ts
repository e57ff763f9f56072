import type { PrismaDb } from '@dcp-emu/db';

/** Published packages' files (`sched_package_files`), for `job.requires()`. */
export class PackageRepository {
  constructor(private readonly prisma: PrismaDb) {}

  /** Store (or replace) a package's files, all in one transaction. */
  async save(
    name: string,
    version: string,
    files: { module: string; source: string }[],
    publisher: string,
    now: Date,
  ): Promise<void> {
    await this.prisma.$transaction(
      files.map((f) =>
        this.prisma.schedPackageFile.upsert({
          where: { name_module: { name, module: f.module } },
          create: { name, module: f.module, version, source: f.source, publisher, createdAt: now },
          update: { version, source: f.source, publisher, createdAt: now },
        }),
      ),
    );
  }

  /** Published packages, by name (`q`: a substring of the name), with their files. */
  async list(opts: { q?: string; skip: number; limit: number }): Promise<{
    packages: { name: string; version: string; publisher: string; published: Date; files: string[] }[];
    more: boolean;
  }> {
    const where = opts.q ? { name: { contains: opts.q } } : {};
    const names = await this.prisma.schedPackageFile.findMany({
      where,
      distinct: ['name'],
      select: { name: true },
      orderBy: { name: 'asc' },
      skip: opts.skip,
      take: opts.limit + 1,
    });
    const page = names.slice(0, opts.limit).map((n) => n.name);
    const rows = page.length
      ? await this.prisma.schedPackageFile.findMany({
          where: { name: { in: page } },
          select: { name: true, module: true, version: true, publisher: true, createdAt: true },
        })
      : [];
    const packages = page.map((name) => {
      const files = rows.filter((r) => r.name === name);
      const latest = files.reduce(
        (a, b) => (b.createdAt > a.createdAt ? b : a),
        files[0] as (typeof files)[number],
      );
      return {
        name,
        version: latest.version,
        publisher: latest.publisher,
        published: latest.createdAt,
        files: files.map((f) => `${f.module}.js`).sort(),
      };
    });
    return { packages, more: names.length > opts.limit };
  }

  async source(name: string, module: string): Promise<string | undefined> {
    const row = await this.prisma.schedPackageFile.findUnique({ where: { name_module: { name, module } } });
    return row?.source;
  }
}
