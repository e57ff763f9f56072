-- DropForeignKey
ALTER TABLE "Slice" DROP CONSTRAINT "Slice_jobId_fkey";

-- DropTable
DROP TABLE "Job";

-- DropTable
DROP TABLE "Slice";

-- CreateTable
CREATE TABLE "sched_jobs" (
    "id" TEXT NOT NULL,
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
    "absolutePayment" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "mvMultiplier" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "sliceCpuMs" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "sliceCpuDensity" DOUBLE PRECISION NOT NULL DEFAULT 1,
    "measuredSlices" INTEGER NOT NULL DEFAULT 0,
    "cpuMs" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "gpuMs" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "bytesIn" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "bytesOut" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "cancelReason" TEXT,
    "cancelCode" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "sched_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sched_slices" (
    "jobId" TEXT NOT NULL,
    "sliceNumber" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "input" TEXT,
    "leaseWorker" TEXT,
    "leasedAt" TIMESTAMP(3),
    "leaseExpires" TIMESTAMP(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "errors" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "result" TEXT,
    "resultIsError" BOOLEAN NOT NULL DEFAULT false,
    "worker" TEXT,
    "paymentAddress" TEXT,
    "cpuMs" DOUBLE PRECISION,
    "gpuMs" DOUBLE PRECISION,
    "bytesIn" DOUBLE PRECISION,
    "bytesOut" DOUBLE PRECISION,
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "sched_slices_pkey" PRIMARY KEY ("jobId","sliceNumber")
);

-- CreateTable
CREATE TABLE "sched_events" (
    "seq" SERIAL NOT NULL,
    "jobId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "dataJson" TEXT NOT NULL,
    "delivered" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "sched_events_pkey" PRIMARY KEY ("seq")
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

-- AddForeignKey
ALTER TABLE "sched_slices" ADD CONSTRAINT "sched_slices_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "sched_jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sched_events" ADD CONSTRAINT "sched_events_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "sched_jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
