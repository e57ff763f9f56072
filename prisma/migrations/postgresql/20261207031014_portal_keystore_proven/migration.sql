-- AlterTable
ALTER TABLE "PortalKeystore" ADD COLUMN     "provenAt" TIMESTAMP(3);
