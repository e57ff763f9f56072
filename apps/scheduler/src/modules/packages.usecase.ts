import { DcpError, DcpErrorCode } from '@dcp-emu/protocol/node';
import { z } from 'zod';
import type { SchedulerContext } from '../context';
import { toModuleDeclare } from './module-source';

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

  async moduleUrls(
    data: z.infer<typeof fetchModuleUrlSchema>,
  ): Promise<Record<string, Record<string, string>>> {
    const out: Record<string, Record<string, string>> = {};
    for (const id of data.modules) {
      // `<package>/<module>`; the module may be in a folder of the package (`pkg/lib/util`)
      const slash = id.indexOf('/');
      if (slash <= 0) throw new DcpError(DcpErrorCode.ENOENT, `module ${id} is not <package>/<module>`);
      const name = id.slice(0, slash);
      const module = moduleKey(id.slice(slash + 1));
      const source = await this.ctx.packages.source(name, module);
      if (source === undefined) throw new DcpError(DcpErrorCode.ENOENT, `no module ${id}`);
      out[name] ??= {};
      out[name][module] = new URL(
        `modules/${encodeURIComponent(name)}/${encodeURIComponent(module)}`,
        this.baseUrl(),
      ).href;
    }
    return out;
  }
}
