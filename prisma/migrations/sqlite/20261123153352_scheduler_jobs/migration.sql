-- DropTable
PRAGMA foreign_keys=off;
DROP TABLE "Job";
PRAGMA foreign_keys=on;

-- DropTable
PRAGMA foreign_keys=off;
DROP TABLE "Slice";
PRAGMA foreign_keys=on;

-- CreateTable
CREATE TABLE "sched_jobs" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "owner" TEXT NOT NULL,
    "paymentAccount" TEXT NOT NULL,
    "generation" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "inputClosed" BOOLEAN NOT NULL DEFAULT false,
    "inputKind" TEXT NOT NULL,
    "rangeJson" TEXT,
    "nextRangeSlice" INTEGER NOT NULL DEFAULT 1,
    "sliceCount" INTEGER NOT NULL DEFAULT 0,
    "completedCount" INTEGER NOT NULL DEFAULT 0,
    "errorCount" INTEGER NOT NULL DEFAULT 0,
    "workFunctionUri" TEXT NOT NULL,
    "argumentsJson" TEXT NOT NULL,
    "requirementsJson" TEXT NOT NULL,
    "publicJson" TEXT NOT NULL,
    "optionsJson" TEXT NOT NULL,
    "absolutePayment" REAL NOT NULL DEFAULT 0,
    "mvMultiplier" REAL NOT NULL DEFAULT 0,
    "sliceCpuMs" REAL NOT NULL DEFAULT 0,
    "sliceCpuDensity" REAL NOT NULL DEFAULT 1,
    "measuredSlices" INTEGER NOT NULL DEFAULT 0,
    "cpuMs" REAL NOT NULL DEFAULT 0,
    "gpuMs" REAL NOT NULL DEFAULT 0,
    "bytesIn" REAL NOT NULL DEFAULT 0,
    "bytesOut" REAL NOT NULL DEFAULT 0,
    "cancelReason" TEXT,
    "cancelCode" TEXT,
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    "finishedAt" DATETIME
);

-- CreateTable
CREATE TABLE "sched_slices" (
    "jobId" TEXT NOT NULL,
    "sliceNumber" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "input" TEXT,
    "leaseWorker" TEXT,
    "leasedAt" DATETIME,
    "leaseExpires" DATETIME,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "errors" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "result" TEXT,
    "resultIsError" BOOLEAN NOT NULL DEFAULT false,
    "worker" TEXT,
    "paymentAddress" TEXT,
    "cpuMs" REAL,
    "gpuMs" REAL,
    "bytesIn" REAL,
    "bytesOut" REAL,
    "completedAt" DATETIME,

    PRIMARY KEY ("jobId", "sliceNumber"),
    CONSTRAINT "sched_slices_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "sched_jobs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "sched_events" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "jobId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "dataJson" TEXT NOT NULL,
    "delivered" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL,
    CONSTRAINT "sched_events_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "sched_jobs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "sched_jobs_owner_idx" ON "sched_jobs"("owner");

-- CreateIndex
CREATE INDEX "sched_jobs_status_idx" ON "sched_jobs"("status");

-- CreateIndex
CREATE INDEX "sched_slices_jobId_status_idx" ON "sched_slices"("jobId", "status");

-- CreateIndex
CREATE INDEX "sched_slices_status_leaseExpires_idx" ON "sched_slices"("status", "leaseExpires");

-- CreateIndex
CREATE INDEX "sched_events_jobId_delivered_idx" ON "sched_events"("jobId", "delivered");
