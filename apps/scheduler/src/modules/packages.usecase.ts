import { DcpError, DcpErrorCode } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import type { SchedulerContext } from '../context';
import { staticRequires, toModuleDeclare } from './module-source';

export const deployPackageSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[\w.@-]+$/),
    version: z.string().max(100).default('0.0.0'),
    files: z.record(z.string().min(1).max(500), z.string()),
  })
  .loose();
export const listModulesSchema = z
  .object({
    q: z.string().max(200).nullish(),
    skip: z.coerce.number().int().min(0).nullish(),
    limit: z.coerce.number().int().min(1).max(1000).nullish(),
  })
  .loose();
export const fetchModuleUrlSchema = z.object({ modules: z.array(z.string()).default([]) }).loose();

/** `pkg/module.js` or `module.js` → `module` (module ids never carry .js). */
function moduleKey(file: string): string {
  return file.replace(/^\.?\//, '').replace(/\.js$/, '');
}

/**
 * The package manager: `deployPackage` stores a package's files (dcp-client publishes `job.requires`
 * modules this way), `fetchModuleURL {modules:['pkg/module']}` answers `{pkg: {module: URL}}`, the
 * URL being `<scheduler origin>/modules/<pkg>/<module>` (workers fetch modules with XHR: no data: URIs).
 */
export class Packages {
  /** the scheduler's base URL as workers reach it; set once the http server listens */
  baseUrl: () => string = () => 'http://127.0.0.1/';

  constructor(private readonly ctx: SchedulerContext) {}

  /** A module's source as sandboxes load it (CommonJS wrapped in `module.declare`, see module-source.ts). */
  async source(name: string, module: string): Promise<string | undefined> {
    const source = await this.ctx.packages.source(name, moduleKey(module));
    return source === undefined ? undefined : toModuleDeclare(source);
  }

  async deploy(
    data: z.infer<typeof deployPackageSchema>,
    peer: string,
  ): Promise<{
    success: true;
    name: string;
    version: string;
    versions: Record<string, { files: string[]; published: string }>;
  }> {
    const files = Object.entries(data.files);
    if (!files.length) throw new DcpError(DcpErrorCode.EINVAL, 'a package needs files');
    await this.ctx.packages.save(
      data.name,
      data.version,
      files.map(([file, source]) => ({ module: moduleKey(file), source })),
      peer,
      new Date(this.ctx.clock.now()),
    );
    this.ctx.logger.info({ package: data.name, files: files.length }, 'package deployed');
    const published = new Date(this.ctx.clock.now()).toISOString();
    // dcp-util's publish prints `name@<first key of versions>`
    return {
      success: true,
      name: data.name,
      version: data.version,
      versions: { [data.version]: { files: files.map(([file]) => file), published } },
    };
  }

  /** `listModules` (dcp-util's `publish listModules`): packages with version, owner, date and files; `next` pages on. */
  async list(data: z.infer<typeof listModulesSchema>) {
    const skip = data.skip ?? 0;
    const limit = data.limit ?? 100;
    const { packages, more } = await this.ctx.packages.list({ q: data.q ?? undefined, skip, limit });
    return {
      packages: packages.map((p) => ({
        name: p.name,
        version: p.version,
        owner: p.publisher,
        published: p.published.getTime(),
        files: Object.fromEntries(p.files.map((f) => [f, {}])),
      })),
      ...(more ? { next: skip + limit } : {}),
    };
  }

  /**
   * `fetchModuleURL {modules}`: the URLs of the requested modules and of every module they `require`
   * with a string literal (relative ones and `pkg/module` ones, transitively), as one module group.
   * A sandbox asks for its job's dependencies once, before `assigned`; dcp-client's BravoJS never
   * asks again for what a module requires, so the whole closure has to come in that one answer. A
   * requested module that does not exist is ENOENT (dcp-worker: ENOMODULE, the job is rejected); a
   * required one that does not exist is left out (a guarded require may never run; if it does, the
   * work function gets "Module … is not available").
   */
  async moduleUrls(
    data: z.infer<typeof fetchModuleUrlSchema>,
  ): Promise<Record<string, Record<string, string>>> {
    const out: Record<string, Record<string, string>> = {};
    const seen = new Set<string>();
    const queue: { id: string; requested: boolean }[] = data.modules.map((id) => ({ id, requested: true }));
    while (queue.length) {
      const { id, requested } = queue.shift() as { id: string; requested: boolean };
      const ref = moduleRef(id);
      if (!ref) {
        if (requested) throw new DcpError(DcpErrorCode.ENOENT, `module ${id} is not <package>/<module>`);
        continue;
      }
      const key = `${ref.name}/${ref.module}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (seen.size > MAX_GROUP_MODULES)
        throw new DcpError(
          DcpErrorCode.ETOOBIG,
          `module group of ${data.modules.join(', ')}: over ${MAX_GROUP_MODULES} modules`,
        );
      const source = await this.ctx.packages.source(ref.name, ref.module);
      if (source === undefined) {
        if (requested) throw new DcpError(DcpErrorCode.ENOENT, `no module ${id}`);
        continue;
      }
      const files = out[ref.name] ?? {};
      out[ref.name] = files;
      files[ref.module] = new URL(
        `modules/${encodeURIComponent(ref.name)}/${encodeURIComponent(ref.module)}`,
        this.baseUrl(),
      ).href;
      for (const dep of staticRequires(source)) {
        const resolved = resolveModuleId(key, dep);
        if (resolved) queue.push({ id: resolved, requested: false });
      }
    }
    return out;
  }
}

/** Most modules in one module group (a package and what it requires). */
const MAX_GROUP_MODULES = 1000;

/** `pkg/module` (or `pkg/dir/module`, `/pkg/module.js`, `./pkg/module`) → its package and module key. */
function moduleRef(id: string): { name: string; module: string } | undefined {
  const clean = id.replace(/^(\.\/|\/)+/, '');
  const slash = clean.indexOf('/');
  if (slash <= 0) return undefined;
  const module = moduleKey(clean.slice(slash + 1));
  if (!module || module.split('/').some((seg) => seg === '.' || seg === '..' || seg === '')) return undefined;
  return { name: clean.slice(0, slash), module };
}

/** A required id as seen from module `from` (`pkg/dir/file`): relative ones resolved in its package. */
export function resolveModuleId(from: string, id: string): string | undefined {
  if (!id.startsWith('./') && !id.startsWith('../')) return id;
  const parts = from.split('/');
  parts.pop();
  for (const seg of id.split('/')) {
    if (seg === '..') {
      if (parts.length <= 1) return undefined; // above the package
      parts.pop();
    } else if (seg !== '.' && seg !== '') parts.push(seg);
  }
  return parts.join('/');
}
