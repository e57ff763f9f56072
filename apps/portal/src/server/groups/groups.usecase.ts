import { DcpErrorCode } from '@dcp-emu/protocol';
import { z } from 'zod';
import { userAddresses } from '../ownership';
import type { Clock, GroupStore, KeystoreStore } from '../ports';
import { fail, ok, type Result } from '../result';
import type { SchedulerApi } from '../upstream/scheduler';
import { validate } from '../validation';

export interface GroupDeps {
  keystores: KeystoreStore;
  groups: GroupStore;
  scheduler: SchedulerApi;
  clock: Clock;
}

const NOT_FOUND = 'no such compute group among yours';

export const createGroupBody = z.object({
  joinKey: z
    .string()
    .trim()
    .min(1, 'enter a join key')
    .max(200)
    .regex(/^[^\s,]+$/, 'a join key has no spaces or commas')
    .refine((k) => k !== 'public', 'the public group exists already; choose another join key'),
  name: z.string().trim().min(1, 'enter a name').max(200),
  commissionRate: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, 'a commission rate is a decimal number like 0.05')
    .refine((r) => Number(r) <= 1, 'a commission rate is at most 1 (100 %)'),
  /** the address commission is paid to; one of the user's (default: their first bank account) */
  owner: z.string().optional(),
});

export interface GroupJob {
  id: string;
  name?: string;
  status: string;
  completedSlices: number;
  totalSlices: number;
}

export interface GroupRow {
  joinKey: string;
  name: string;
  owner: string;
  commissionRate: string;
  createdAt: string;
  jobs: GroupJob[];
  /** workers that computed or hold slices of the group's jobs */
  members: string[];
}

/**
 * Register a compute group at the scheduler (it generates the join secret and keeps only its hash)
 * and record it as the user's. The secret is in this answer only.
 */
export async function createGroup(
  deps: GroupDeps,
  userId: string,
  body: unknown,
): Promise<Result<{ group: GroupRow; joinSecret: string }>> {
  const parsed = validate(createGroupBody, body);
  if (!parsed.ok) return parsed;
  const mine = await userAddresses(deps, userId);
  const owner = parsed.value.owner?.toLowerCase() ?? mine.banks[0] ?? mine.identities[0];
  if (owner !== undefined && !mine.all.has(owner))
    return fail(DcpErrorCode.EINVAL, 'choose one of your own addresses for the commission', 'owner');
  const made = await deps.scheduler.createGroup({
    joinKey: parsed.value.joinKey,
    name: parsed.value.name,
    commissionRate: parsed.value.commissionRate,
    ...(owner ? { owner } : {}),
  });
  if (!made.ok) {
    if (made.error.code === DcpErrorCode.EGROUP)
      return fail(
        DcpErrorCode.EDUP,
        `the join key ${parsed.value.joinKey} is taken; choose another`,
        'joinKey',
      );
    return made;
  }
  const secret = made.value.joinSecret;
  if (!secret) return fail(DcpErrorCode.EINTERNAL, 'the scheduler did not generate a join secret');
  const recorded = await deps.groups.create({
    joinKey: made.value.group.joinKey,
    userId,
    createdAt: new Date(deps.clock.now()),
  });
  if (recorded === 'duplicate') {
    await deps.scheduler.deleteGroup(made.value.group.joinKey);
    return fail(
      DcpErrorCode.EDUP,
      `the join key ${parsed.value.joinKey} is taken; choose another`,
      'joinKey',
    );
  }
  return ok({ group: { ...made.value.group, jobs: [], members: [] }, joinSecret: secret });
}

/** The user's compute groups with their running jobs and the workers seen computing them. */
export async function listGroups(deps: GroupDeps, userId: string): Promise<Result<GroupRow[]>> {
  const rows = await deps.groups.list(userId);
  if (!rows.length) return ok([]);
  const registry = await deps.scheduler.groups();
  if (!registry.ok) return registry;
  const byKey = new Map(registry.value.groups.map((g) => [g.joinKey, g]));
  const out: GroupRow[] = [];
  for (const row of rows) {
    const g = byKey.get(row.joinKey);
    if (!g) continue;
    const jobs: GroupJob[] = [];
    const members = new Set<string>();
    for (const id of g.jobs.slice(0, 50)) {
      const job = await deps.scheduler.job(id);
      if (!job.ok) continue;
      const j = job.value;
      jobs.push({
        id: j.id,
        ...(j.name ? { name: j.name } : {}),
        status: j.status,
        completedSlices: j.completedSlices,
        totalSlices: j.totalSlices,
      });
      const slices = await deps.scheduler.slices(id);
      if (slices.ok) for (const s of slices.value.slices) if (s.worker) members.add(s.worker);
    }
    out.push({
      joinKey: g.joinKey,
      name: g.name,
      owner: g.owner,
      commissionRate: g.commissionRate,
      createdAt: g.createdAt,
      jobs,
      members: [...members].sort(),
    });
  }
  return ok(out);
}

/** Take a job out of one of the user's groups (workers of that group stop getting its slices). */
export async function removeJob(
  deps: GroupDeps,
  userId: string,
  joinKey: string,
  job: string,
): Promise<Result<{ job: string; groups: string[] }>> {
  if (!(await deps.groups.get(userId, joinKey))) return fail(DcpErrorCode.ENOENT, NOT_FOUND);
  return deps.scheduler.removeJobFromGroup(joinKey, job);
}

/** Delete one of the user's groups at the scheduler and here. */
export async function deleteGroup(
  deps: GroupDeps,
  userId: string,
  joinKey: string,
): Promise<Result<{ deleted: string }>> {
  if (!(await deps.groups.get(userId, joinKey))) return fail(DcpErrorCode.ENOENT, NOT_FOUND);
  const gone = await deps.scheduler.deleteGroup(joinKey);
  if (!gone.ok && gone.error.code !== DcpErrorCode.ENOENT) return gone;
  await deps.groups.delete(userId, joinKey);
  return ok({ deleted: joinKey });
}
