-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Job" (
    "id" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "paymentAccount" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "workFunctionUri" TEXT NOT NULL,
    "sliceCount" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Slice" (
    "jobId" TEXT NOT NULL,
    "sliceNumber" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Slice_pkey" PRIMARY KEY ("jobId","sliceNumber")
);

-- CreateIndex
CREATE INDEX "Job_owner_idx" ON "Job"("owner");

-- CreateIndex
CREATE INDEX "Job_status_idx" ON "Job"("status");

-- CreateIndex
CREATE INDEX "Slice_jobId_status_idx" ON "Slice"("jobId", "status");

-- AddForeignKey
ALTER TABLE "Slice" ADD CONSTRAINT "Slice_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;
