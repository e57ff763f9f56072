-- CreateTable
CREATE TABLE "sched_compute_groups" (
    "joinKey" TEXT NOT NULL PRIMARY KEY,
    "joinHash" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "commissionRate" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
