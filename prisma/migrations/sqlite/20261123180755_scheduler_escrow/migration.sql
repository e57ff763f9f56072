-- CreateTable
CREATE TABLE "sched_escrows" (
    "jobId" TEXT NOT NULL PRIMARY KEY,
    "paymentAccount" TEXT NOT NULL,
    "holdId" TEXT,
    "perSlice" TEXT NOT NULL,
    "commissionRate" TEXT NOT NULL,
    "commissionTo" TEXT NOT NULL,
    "fundedSlices" INTEGER NOT NULL DEFAULT 0,
    "shortSince" DATETIME,
    "shortAmount" TEXT,
    "released" BOOLEAN NOT NULL DEFAULT false,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "sched_payments" (
    "jobId" TEXT NOT NULL,
    "sliceNumber" INTEGER NOT NULL,
    "payTo" TEXT NOT NULL,
    "amount" TEXT NOT NULL,
    "commissionTo" TEXT NOT NULL,
    "commission" TEXT NOT NULL,
    "worker" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "settledAt" DATETIME,
    "transaction" TEXT,

    PRIMARY KEY ("jobId", "sliceNumber")
);

-- CreateIndex
CREATE INDEX "sched_escrows_released_idx" ON "sched_escrows"("released");

-- CreateIndex
CREATE INDEX "sched_payments_settledAt_idx" ON "sched_payments"("settledAt");
