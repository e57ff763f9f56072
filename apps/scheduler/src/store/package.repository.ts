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

  async source(name: string, module: string): Promise<string | undefined> {
    const row = await this.prisma.schedPackageFile.findUnique({ where: { name_module: { name, module } } });
    return row?.source;
  }
}
