import { listAccounts } from '../bank/bank.usecase';
import { listFaults } from '../faults/faults.usecase';
import { listGroups } from '../groups/groups.usecase';
import { jobPage, listJobs } from '../jobs/jobs.usecase';
import type { Portal } from '../portal';
import { fail, type Result } from '../result';
import { workersPage } from '../workers/workers.usecase';
import { DcpErrorCode } from '@dcp-emu/protocol';

/**
 * What a browser can subscribe to over `/api/live`, each read exactly as the REST API reads it for
 * the signed-in user (same ownership checks): `accounts`, `jobs`, `job:<id>`, `workers`, `groups`, `faults`.
 */
export type TopicReader = (userId: string) => Promise<Result<unknown>>;

const TOPIC = /^(accounts|jobs|workers|groups|faults|job:[\w.:-]{1,256})$/;

export function isTopic(topic: unknown): topic is string {
  return typeof topic === 'string' && TOPIC.test(topic);
}

export function topicReader(portal: Portal, topic: string): TopicReader {
  if (topic === 'accounts') return (userId) => listAccounts(portal, userId);
  if (topic === 'jobs') return (userId) => listJobs(portal, userId);
  if (topic === 'workers') return (userId) => workersPage(portal, userId);
  if (topic === 'groups') return (userId) => listGroups(portal, userId);
  if (topic === 'faults') return (userId) => listFaults(portal, userId);
  if (topic.startsWith('job:')) {
    const id = topic.slice(4);
    return (userId) => jobPage(portal, userId, id, new Date(portal.clock.now()));
  }
  return async () => fail(DcpErrorCode.EINVAL, `unknown topic ${topic}`);
}
