import type { PrismaDb } from '@dcp-emu/db';
import type { KeystoreKind } from '../lib/keystore/kinds';
import type {
  GroupStore,
  KeystoreRecord,
  KeystoreStore,
  KeystoreSummary,
  SessionStore,
  UserStore,
} from './ports';

/** Prisma's unique-constraint violation. */
function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'P2002';
}

export function prismaUserStore(prisma: PrismaDb): UserStore {
  return {
    async create(user) {
      try {
        return await prisma.portalUser.create({
          data: user,
          select: { id: true, email: true, passwordHash: true, createdAt: true },
        });
      } catch (e) {
        if (isUniqueViolation(e)) return 'duplicate';
        throw e;
      }
    },
    findByEmail: (email) =>
      prisma.portalUser.findUnique({
        where: { email },
        select: { id: true, email: true, passwordHash: true, createdAt: true },
      }),
    findById: (id) =>
      prisma.portalUser.findUnique({
        where: { id },
        select: { id: true, email: true, passwordHash: true, createdAt: true },
      }),
    async setPasswordHash(id, passwordHash) {
      await prisma.portalUser.update({ where: { id }, data: { passwordHash } });
    },
  };
}

export function prismaSessionStore(prisma: PrismaDb): SessionStore {
  return {
    async create(session) {
      await prisma.portalSession.create({ data: session });
    },
    async find(id) {
      const row = await prisma.portalSession.findUnique({
        where: { id },
        include: { user: { select: { email: true } } },
      });
      if (!row) return null;
      return {
        id: row.id,
        userId: row.userId,
        createdAt: row.createdAt,
        expiresAt: row.expiresAt,
        email: row.user.email,
      };
    },
    async delete(id) {
      await prisma.portalSession.deleteMany({ where: { id } });
    },
    async deleteForUser(userId, keep) {
      const { count } = await prisma.portalSession.deleteMany({
        where: keep === undefined ? { userId } : { userId, id: { not: keep } },
      });
      return count;
    },
    async deleteExpired(now) {
      const { count } = await prisma.portalSession.deleteMany({ where: { expiresAt: { lte: now } } });
      return count;
    },
  };
}

const summaryFields = {
  id: true,
  kind: true,
  label: true,
  address: true,
  createdAt: true,
  provenAt: true,
} as const;

function toSummary(row: {
  id: string;
  kind: string;
  label: string;
  address: string;
  createdAt: Date;
  provenAt: Date | null;
}): KeystoreSummary {
  return { ...row, kind: row.kind as KeystoreKind };
}

export function prismaKeystoreStore(prisma: PrismaDb): KeystoreStore {
  return {
    async create(record) {
      try {
        return toSummary(await prisma.portalKeystore.create({ data: record, select: summaryFields }));
      } catch (e) {
        if (isUniqueViolation(e)) return 'duplicate';
        throw e;
      }
    },
    async list(userId) {
      const rows = await prisma.portalKeystore.findMany({
        where: { userId },
        select: summaryFields,
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      });
      return rows.map(toSummary);
    },
    async get(userId, id) {
      const row = await prisma.portalKeystore.findFirst({ where: { id, userId } });
      return row ? ({ ...row, kind: row.kind as KeystoreKind } satisfies KeystoreRecord) : null;
    },
    async delete(userId, id) {
      const { count } = await prisma.portalKeystore.deleteMany({ where: { id, userId } });
      return count > 0;
    },
    async markProven(userId, id, at) {
      const { count } = await prisma.portalKeystore.updateMany({
        where: { id, userId },
        data: { provenAt: at },
      });
      if (count === 0) return null;
      const row = await prisma.portalKeystore.findFirst({ where: { id, userId }, select: summaryFields });
      return row ? toSummary(row) : null;
    },
  };
}

export function prismaGroupStore(prisma: PrismaDb): GroupStore {
  const fields = { joinKey: true, userId: true, createdAt: true } as const;
  return {
    async create(record) {
      try {
        return await prisma.portalComputeGroup.create({ data: record, select: fields });
      } catch (e) {
        if (isUniqueViolation(e)) return 'duplicate';
        throw e;
      }
    },
    list: (userId) =>
      prisma.portalComputeGroup.findMany({
        where: { userId },
        select: fields,
        orderBy: [{ createdAt: 'desc' }, { joinKey: 'asc' }],
      }),
    get: (userId, joinKey) =>
      prisma.portalComputeGroup.findFirst({ where: { userId, joinKey }, select: fields }),
    async delete(userId, joinKey) {
      const { count } = await prisma.portalComputeGroup.deleteMany({ where: { userId, joinKey } });
      return count > 0;
    },
  };
}
