-- CreateTable
CREATE TABLE "sched_compute_groups" (
    "joinKey" TEXT NOT NULL,
    "joinHash" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "commissionRate" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sched_compute_groups_pkey" PRIMARY KEY ("joinKey")
);
