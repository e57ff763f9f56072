-- CreateTable
CREATE TABLE "sched_package_files" (
    "name" TEXT NOT NULL,
    "module" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "publisher" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "sched_package_files_pkey" PRIMARY KEY ("name","module")
);
