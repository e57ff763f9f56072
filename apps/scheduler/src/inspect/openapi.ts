/** OpenAPI 3.1 description of the inspection API (`GET /api/openapi.json`). */
export function openApiDocument(): Record<string, unknown> {
  const json = (schema: Record<string, unknown>) => ({ content: { 'application/json': { schema } } });
  const obj = { type: 'object' };
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
  const page = [
    { name: 'from', in: 'query', schema: { type: 'integer', minimum: 1 } },
    { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 10000 } },
  ];
  const doc = {
    openapi: '3.1.0',
    info: {
      title: 'dcp-emu scheduler inspection API',
      version: '0.1.0',
      description:
        'Errors are `{error: {code, message}}` with a DCP error code (400 EINVAL, 401/403 EPERM or EBADSIG, 404 ENOENT, 413 ETOOBIG). ' +
        'Changes need the admin token (`Authorization: Bearer …`) or a request signed by the owner (`X-DCP-Signed-Request`, see README "Security model"); ' +
        'reads of jobs are open on loopback and need the same credentials once the scheduler listens beyond it.',
    },
    components: {
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
    },
    paths: {
      '/api/jobs': {
        get: {
          summary: 'List jobs, newest first',
          parameters: [
            { name: 'owner', in: 'query', schema: { type: 'string' } },
            {
              name: 'account',
              in: 'query',
              description:
                'comma-separated addresses: jobs deployed by or paid from any of them (any spelling)',
              schema: { type: 'string' },
            },
            {
              name: 'status',
              in: 'query',
              description: 'comma-separated: running,finished,cancelled',
              schema: { type: 'string' },
            },
            { name: 'limit', in: 'query', schema: { type: 'integer' } },
            { name: 'offset', in: 'query', schema: { type: 'integer' } },
          ],
          responses: { '200': { description: '{jobs, total}', ...json(obj) } },
        },
      },
      '/api/jobs/{id}': {
        get: {
          summary: 'One job: status, slice counts, metering, offer',
          parameters: [idParam],
          responses: { '200': { description: 'job', ...json(obj) }, '404': { description: 'no such job' } },
        },
      },
      '/api/jobs/{id}/slices': {
        get: {
          summary: 'Slices with input, lease, attempts, metering',
          parameters: [idParam, ...page],
          responses: { '200': { description: '{slices}', ...json(obj) } },
        },
      },
      '/api/jobs/{id}/results': {
        get: {
          summary: 'Decoded results',
          parameters: [idParam, ...page],
          responses: { '200': { description: '{results}', ...json(obj) } },
        },
      },
      '/api/jobs/{id}/events': {
        get: {
          summary:
            'Events, oldest first: reliable ones as stored (stop, nofunds) and the latest optional ones (console, error, noprogress, custom; stored: false, negative seq)',
          parameters: [idParam],
          responses: { '200': { description: '{events}', ...json(obj) } },
        },
      },
      '/api/jobs/{id}/explain': {
        get: {
          summary:
            'Why is the job idle: its state, and for each worker that asks for work the reason it is not computing the job (its last requestTask: compute group, requirements, minimum wage, funds, sandboxes busy, no workers)',
          parameters: [idParam],
          responses: {
            '200': { description: '{job, blocked, workers, summary}', ...json(obj) },
            '404': { description: 'no such job' },
          },
        },
      },
      '/api/jobs/{id}/slices/{n}/replay': {
        get: {
          summary:
            "One slice to run again outside the stack: work function, datum and argument URIs as a 5.x worker gets them, the job's held module sources, and what the stack recorded (status, result, errors)",
          parameters: [idParam, { name: 'n', in: 'path', required: true, schema: { type: 'integer' } }],
          responses: {
            '200': { description: 'replay bundle', ...json(obj) },
            '404': { description: 'no such job or slice' },
          },
        },
      },
      '/api/jobs/{id}/cancel': {
        post: {
          summary: 'Cancel a running job (its client gets stop/cancelled)',
          parameters: [idParam],
          requestBody: json({ type: 'object', properties: { reason: { type: 'string' } } }),
          responses: { '201': { description: '{cancelled}', ...json(obj) } },
        },
      },
      '/api/workers': {
        get: {
          summary: 'Workers holding leases, with their slices',
          responses: { '200': { description: '{workers}', ...json(obj) } },
        },
      },
      '/api/compute-groups': {
        get: {
          summary:
            'Registered compute groups (joinKey, name, owner, commissionRate, createdAt, running jobs)',
          parameters: [
            {
              name: 'jobs',
              in: 'query',
              required: false,
              schema: { type: 'string', enum: ['all'] },
              description: '`all`: list jobs of every status, not only the running ones',
            },
          ],
          responses: { '200': { description: '{groups}', ...json(obj) } },
        },
        post: {
          summary: 'Register a compute group; without joinSecret one is generated and returned once',
          requestBody: json({
            type: 'object',
            required: ['joinKey', 'name', 'commissionRate'],
            properties: {
              joinKey: { type: 'string' },
              joinSecret: { type: 'string' },
              name: { type: 'string' },
              commissionRate: { type: 'string', pattern: '^\\d+(\\.\\d+)?$' },
              owner: { type: 'string', description: 'creator address (default: the scheduler)' },
            },
          }),
          responses: {
            '201': { description: '{group, joinSecret?}', ...json(obj) },
            '400': { description: '{error:{code,message}, issues}', ...json(obj) },
            '409': { description: '{error:{code:"EGROUP",message}} join key taken', ...json(obj) },
          },
        },
      },
      '/api/compute-groups/{joinKey}': {
        delete: {
          summary: 'Remove a compute group',
          parameters: [{ name: 'joinKey', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: '{deleted}', ...json(obj) },
            '404': { description: '{error:{code:"ENOENT",message}}', ...json(obj) },
          },
        },
      },
      '/api/compute-groups/{joinKey}/jobs/{job}': {
        delete: {
          summary: "Take a job out of a compute group (its workers stop getting the job's slices)",
          parameters: [
            { name: 'joinKey', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'job', in: 'path', required: true, schema: { type: 'string' } },
          ],
          responses: {
            '200': { description: '{job, groups} the groups the job is left in', ...json(obj) },
            '404': { description: '{error:{code:"ENOENT",message}} no such job in that group', ...json(obj) },
          },
        },
      },
      '/api/schedmsg': {
        post: {
          summary: 'Send a SchedMsg to workers (broadcast, or a command to one target)',
          requestBody: json({
            type: 'object',
            required: ['command'],
            properties: {
              command: { type: 'string' },
              payload: obj,
              target: { type: 'string', description: 'identity address or worker id' },
            },
          }),
          responses: { '201': { description: '{delivered}', ...json(obj) } },
        },
      },
      '/etc/dcp-config.kvin': {
        get: {
          summary: 'dcp-client configuration (KVIN)',
          parameters: [{ name: 'ver', in: 'query', schema: { type: 'string' } }],
          responses: { '200': { description: 'KVIN text' } },
        },
      },
    },
  };
  const refused = {
    '401': { description: '{error:{code,message}} no or wrong credentials', ...json(obj) },
    '403': { description: '{error:{code:"EPERM",message}} the signer does not own it', ...json(obj) },
  };
  const paths = doc.paths as Record<string, Record<string, { security?: unknown; responses: object }>>;
  for (const [path, ops] of Object.entries(paths))
    for (const [method, op] of Object.entries(ops)) {
      if (method === 'get') continue;
      op.security =
        path === '/api/schedmsg' ? [{ adminToken: [] }] : [{ adminToken: [] }, { signedRequest: [] }];
      op.responses = { ...op.responses, ...refused };
    }
  return doc;
}
