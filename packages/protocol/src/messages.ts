import { z } from 'zod';

/** DCP protocol implementation version we speak, and the peer versions we accept (`^5.2.0`). */
export const PROTOCOL_VERSION = '5.3.0';

export function isCompatibleVersion(version: unknown): boolean {
  if (typeof version !== 'string') return false;
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  return Boolean(m && Number(m[1]) === 5 && Number(m[2]) >= 2);
}

export const validitySchema = z.object({
  stamp: z.string().min(1),
  ttl: z.number().optional(),
  time: z.number(),
});
export type Validity = z.infer<typeof validitySchema>;

export const allowEntrySchema = z.object({
  resource: z.string(),
  guardian: z.string(),
  accessor: z.string(),
});
export type AllowEntry = z.infer<typeof allowEntrySchema>;

/** Request payload as on the wire (`jsonData` when it travelled inside a batch). */
export const requestPayloadSchema = z.looseObject({
  operation: z.string().min(1),
  data: z.unknown().optional(),
  jsonData: z.string().optional(),
  allow: z.array(allowEntrySchema).optional(),
  validity: z.unknown().optional(),
});
export type RequestPayload = z.infer<typeof requestPayloadSchema>;

export const notificationPayloadSchema = z.looseObject({
  data: z.unknown().optional(),
  jsonData: z.string().optional(),
  allow: z.array(allowEntrySchema).optional(),
  validity: z.unknown().optional(),
});

export const messageTypeSchema = z.enum(['request', 'response', 'batch', 'notification']);
export type MessageType = z.infer<typeof messageTypeSchema>;

/** Body of a DcpMessage (request, response, batch, notification). */
export const messageBodySchema = z.looseObject({
  id: z.string().min(1),
  type: messageTypeSchema,
  success: z.boolean().optional(),
  payload: z.unknown(),
  auth: z.record(z.string(), z.unknown()).optional(),
  dcpsid: z.string().optional(),
  time: z.number().optional(),
  ackToken: z.string().optional(),
  nonce: z.string().nullable().optional(),
});
export type MessageBody = z.infer<typeof messageBodySchema>;

/** Body of an Ack (acks are signed but are not DcpMessages and are never acked). */
export const ackBodySchema = z.looseObject({
  type: z.literal('ack'),
  dcpsid: z.string().optional(),
  token: z.string().min(1),
  nonce: z.string().min(1),
  messageId: z.string().optional(),
});
export type AckBody = z.infer<typeof ackBodySchema>;

/** Connect request data. */
export const connectDataSchema = z.looseObject({ version: z.string(), sid: z.string().min(1) });

/** The capability announcement sent in an `E0000P` frame. */
export interface PeerCapabilities {
  canOoo: boolean;
  canAck: boolean;
  wantsConcat: boolean;
  wantsAck: boolean;
  rxMaxFragmentSize: number;
  rxMaxFragmentCount: number;
  pingInterval?: number;
  hasAnnounced?: boolean;
}

/** Which dcp-client generation a peer is: 4 (dcp-client 4.x, no notifications, KVIN v8) or 5. */
export type Generation = 4 | 5;
