-- CreateTable
CREATE TABLE "PortalComputeGroup" (
    "joinKey" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "PortalComputeGroup_userId_fkey" FOREIGN KEY ("userId") REFERENCES "PortalUser" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "PortalComputeGroup_userId_createdAt_idx" ON "PortalComputeGroup"("userId", "createdAt");
