import { z } from 'zod';
import { openApiDocument, type Route } from './openapi';
import {
  cancelJobRequest,
  createComputeGroupRequest,
  groupListQuery,
  jobListQuery,
  schedMsgRequest,
  schedulerApiSchemas,
  schedulerRequestSchemas,
  slicePageQuery,
} from './scheduler';

const s = schedulerApiSchemas;
const jobParam = { id: { schema: z.string(), description: 'job id (its address)' } };
const joinKeyParam = { joinKey: { schema: z.string(), description: 'the group’s registry key' } };
/** changes: the admin token, or a request signed by the owner */
const ownerOrAdmin: Record<string, string[]>[] = [{ adminToken: [] }, { signedRequest: [] }];

let cached: Record<string, unknown> | undefined;

/** OpenAPI 3.1 of the scheduler's inspection API (`GET /api/openapi.json`), generated from the contracts. */
export function schedulerOpenApi(): Record<string, unknown> {
  const routes: Route[] = [
    {
      method: 'get',
      path: '/api/jobs',
      summary: 'List jobs, newest first',
      query: jobListQuery,
      responses: { 200: { description: 'a page of jobs and their total', schema: s.JobList } },
      errors: [400, 401],
    },
    {
      method: 'get',
      path: '/api/jobs/{id}',
      summary: 'One job: status, slice counts, metering, offer',
      params: jobParam,
      responses: { 200: { description: 'the job', schema: s.JobDetail } },
      errors: [401, 403, 404],
    },
    {
      method: 'get',
      path: '/api/jobs/{id}/slices',
      summary: 'Slices with input, lease, attempts, metering, payment',
      params: jobParam,
      query: slicePageQuery,
      responses: { 200: { description: 'a page of slices', schema: s.SliceList } },
      errors: [400, 401, 403, 404],
    },
    {
      method: 'get',
      path: '/api/jobs/{id}/escrow',
      summary: "The job's escrow terms and what it owes and paid (null on an unmetered scheduler)",
      params: jobParam,
      responses: { 200: { description: 'the escrow', schema: s.JobEscrow } },
      errors: [401, 403, 404],
    },
    {
      method: 'get',
      path: '/api/jobs/{id}/results',
      summary: 'Decoded results',
      params: jobParam,
      query: slicePageQuery,
      responses: { 200: { description: 'a page of results', schema: s.ResultList } },
      errors: [400, 401, 403, 404],
    },
    {
      method: 'get',
      path: '/api/jobs/{id}/events',
      summary:
        'Events, oldest first: reliable ones as stored (stop, nofunds) and the latest optional ones (console, error, noprogress, custom; stored: false, negative seq)',
      params: jobParam,
      responses: { 200: { description: 'the events', schema: s.EventList } },
      errors: [401, 403, 404],
    },
    {
      method: 'post',
      path: '/api/jobs/{id}/cancel',
      summary: 'Cancel a running job (its client gets stop/cancelled)',
      params: jobParam,
      body: cancelJobRequest,
      responses: {
        201: { description: 'whether it was running and is cancelled now', schema: s.CancelResult },
      },
      errors: [400, 401, 403, 404],
      security: ownerOrAdmin,
    },
    {
      method: 'get',
      path: '/api/workers',
      summary: 'Workers that asked for work and every holder of leased slices',
      responses: { 200: { description: 'the workers', schema: s.WorkerList } },
    },
    {
      method: 'get',
      path: '/api/compute-groups',
      summary: 'Registered compute groups (no join hashes, no secrets) with their jobs',
      query: groupListQuery,
      responses: { 200: { description: 'the groups', schema: s.ComputeGroupList } },
      errors: [400],
    },
    {
      method: 'post',
      path: '/api/compute-groups',
      summary: 'Register a compute group; without joinSecret one is generated and returned once',
      body: createComputeGroupRequest,
      responses: {
        201: { description: 'the group (and its generated secret)', schema: s.CreatedComputeGroup },
      },
      errors: [400, 401, 403, 409],
      security: ownerOrAdmin,
    },
    {
      method: 'delete',
      path: '/api/compute-groups/{joinKey}',
      summary: 'Remove a compute group',
      params: joinKeyParam,
      responses: { 200: { description: 'deleted', schema: s.DeletedComputeGroup } },
      errors: [401, 403, 404],
      security: ownerOrAdmin,
    },
    {
      method: 'delete',
      path: '/api/compute-groups/{joinKey}/jobs/{job}',
      summary: "Take a job out of a compute group (its workers stop getting the job's slices)",
      params: { ...joinKeyParam, job: { schema: z.string(), description: 'job id' } },
      responses: { 200: { description: 'the groups the job is left in', schema: s.JobGroups } },
      errors: [401, 403, 404],
      security: ownerOrAdmin,
    },
    {
      method: 'post',
      path: '/api/schedmsg',
      summary: 'Send a SchedMsg to workers (broadcast, or a command to one target)',
      body: schedMsgRequest,
      responses: { 201: { description: 'how many workers got it', schema: s.SchedMsgResult } },
      errors: [400, 401, 403],
      security: [{ adminToken: [] }],
    },
    {
      method: 'get',
      path: '/etc/dcp-config.kvin',
      summary: 'dcp-client configuration (KVIN)',
      query: z.object({ ver: z.string().optional() }),
      responses: { 200: { description: 'KVIN text', contentType: 'application/x-kvin' } },
    },
  ];
  cached ??= openApiDocument({
    title: 'dcp-emu scheduler inspection API',
    version: '0.1.0',
    description:
      'Errors are `{error: {code, message}}` with a DCP error code (400 EINVAL, 401/403 EPERM or EBADSIG, 404 ENOENT, 409 EGROUP, 413 ETOOBIG). ' +
      'Changes need the admin token (`Authorization: Bearer …`) or a request signed by the owner (`X-DCP-Signed-Request`, see the scheduler README "Security model"); ' +
      'reads of jobs are open on loopback and need the same credentials once the scheduler listens beyond it.',
    schemas: s,
    requests: schedulerRequestSchemas,
    securitySchemes: {
      adminToken: {
        type: 'http',
        scheme: 'bearer',
        description: 'the admin token (`<data dir>/admin.token`)',
      },
      signedRequest: {
        type: 'apiKey',
        in: 'header',
        name: 'X-DCP-Signed-Request',
        description: 'base64url of a sealed envelope over {type, method, path, bodyHash, timestamp, nonce}',
      },
    },
    routes,
  });
  return cached;
}
