-- CreateTable
CREATE TABLE "PortalComputeGroup" (
    "joinKey" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PortalComputeGroup_pkey" PRIMARY KEY ("joinKey")
);

-- CreateIndex
CREATE INDEX "PortalComputeGroup_userId_createdAt_idx" ON "PortalComputeGroup"("userId", "createdAt");

-- AddForeignKey
ALTER TABLE "PortalComputeGroup" ADD CONSTRAINT "PortalComputeGroup_userId_fkey" FOREIGN KEY ("userId") REFERENCES "PortalUser"("id") ON DELETE CASCADE ON UPDATE CASCADE;
