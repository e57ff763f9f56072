-- AlterTable
ALTER TABLE "PortalKeystore" ADD COLUMN "provenAt" DATETIME;
