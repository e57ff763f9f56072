import type { PrismaDb } from '@dcp-emu/db';

/** A registered compute group (the join secret is never stored, only `joinHash`). */
export interface ComputeGroupRecord {
  joinKey: string;
  joinHash: string;
  name: string;
  owner: string;
  commissionRate: string;
  createdAt: Date;
}

/** Registered compute groups (`sched_compute_groups`): a cold path, read when workers and jobs join. */
export class ComputeGroupRepository {
  /** every group, by join key: groups are few and read on every task request */
  #cache?: Promise<Map<string, ComputeGroupRecord>>;

  constructor(private readonly prisma: PrismaDb) {}

  #all(): Promise<Map<string, ComputeGroupRecord>> {
    this.#cache ??= this.prisma.schedComputeGroup
      .findMany({ orderBy: { createdAt: 'asc' } })
      .then((rows) => new Map(rows.map((r) => [r.joinKey, r])));
    this.#cache.catch(() => {
      this.#cache = undefined;
    });
    return this.#cache;
  }

  /** Forget the cache (the database was replaced underneath). */
  forget(): void {
    this.#cache = undefined;
  }

  /** Register a compute group; false if its join key is taken. */
  async create(group: ComputeGroupRecord): Promise<boolean> {
    const existing = await this.prisma.schedComputeGroup.findUnique({ where: { joinKey: group.joinKey } });
    if (existing) return false;
    try {
      await this.prisma.schedComputeGroup.create({ data: group });
      this.#cache = undefined;
      return true;
    } catch (e) {
      if ((e as { code?: string }).code === 'P2002') return false;
      throw e;
    }
  }

  async get(joinKey: string): Promise<ComputeGroupRecord | undefined> {
    return (await this.#all()).get(joinKey);
  }

  /** Compute groups by join key (unknown keys are absent from the map). */
  async byKey(joinKeys: string[]): Promise<Map<string, ComputeGroupRecord>> {
    if (!joinKeys.length) return new Map();
    const all = await this.#all();
    return new Map(joinKeys.flatMap((k) => (all.has(k) ? [[k, all.get(k) as ComputeGroupRecord]] : [])));
  }

  async list(): Promise<ComputeGroupRecord[]> {
    return [...(await this.#all()).values()];
  }

  /** Change a group's name, join hash or commission; false if there is no such group. */
  async update(
    joinKey: string,
    data: Partial<Pick<ComputeGroupRecord, 'name' | 'joinHash' | 'commissionRate'>>,
  ): Promise<boolean> {
    const r = await this.prisma.schedComputeGroup.updateMany({ where: { joinKey }, data });
    this.#cache = undefined;
    return r.count > 0;
  }

  /** Remove a compute group; false if there was none. */
  async delete(joinKey: string): Promise<boolean> {
    const r = await this.prisma.schedComputeGroup.deleteMany({ where: { joinKey } });
    this.#cache = undefined;
    return r.count > 0;
  }
}
