-- CreateTable
CREATE TABLE "bank_accounts" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "balance" BIGINT NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "bank_holds" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "account" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "held" BIGINT NOT NULL,
    "captured" BIGINT NOT NULL DEFAULT 0,
    "released" BIGINT NOT NULL DEFAULT 0,
    "remaining" BIGINT NOT NULL,
    "job" TEXT,
    "memo" TEXT,
    "version" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL,
    "closedAt" DATETIME
);

-- CreateTable
CREATE TABLE "bank_transactions" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "id" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "job" TEXT,
    "slice" INTEGER,
    "worker" TEXT,
    "hold" TEXT,
    "memo" TEXT,
    "idempotencyKey" TEXT,
    "fingerprint" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "bank_postings" (
    "transactionSeq" INTEGER NOT NULL,
    "leg" INTEGER NOT NULL,
    "account" TEXT,
    "hold" TEXT,
    "amount" BIGINT NOT NULL,

    PRIMARY KEY ("transactionSeq", "leg"),
    CONSTRAINT "bank_postings_transactionSeq_fkey" FOREIGN KEY ("transactionSeq") REFERENCES "bank_transactions" ("seq") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "bank_holds_account_status_idx" ON "bank_holds"("account", "status");

-- CreateIndex
CREATE INDEX "bank_holds_job_idx" ON "bank_holds"("job");

-- CreateIndex
CREATE UNIQUE INDEX "bank_transactions_id_key" ON "bank_transactions"("id");

-- CreateIndex
CREATE UNIQUE INDEX "bank_transactions_idempotencyKey_key" ON "bank_transactions"("idempotencyKey");

-- CreateIndex
CREATE INDEX "bank_transactions_hold_idx" ON "bank_transactions"("hold");

-- CreateIndex
CREATE INDEX "bank_transactions_job_idx" ON "bank_transactions"("job");

-- CreateIndex
CREATE INDEX "bank_postings_account_transactionSeq_idx" ON "bank_postings"("account", "transactionSeq");

-- CreateIndex
CREATE INDEX "bank_postings_hold_idx" ON "bank_postings"("hold");

-- Ledger rules the models cannot express (hand-written): the journal is append-only, user
-- balances and hold remainders never go below zero.
CREATE TRIGGER "bank_transactions_append_only_update" BEFORE UPDATE ON "bank_transactions"
BEGIN SELECT RAISE(ABORT, 'the bank journal is append-only'); END;
CREATE TRIGGER "bank_transactions_append_only_delete" BEFORE DELETE ON "bank_transactions"
BEGIN SELECT RAISE(ABORT, 'the bank journal is append-only'); END;
CREATE TRIGGER "bank_postings_append_only_update" BEFORE UPDATE ON "bank_postings"
BEGIN SELECT RAISE(ABORT, 'the bank journal is append-only'); END;
CREATE TRIGGER "bank_postings_append_only_delete" BEFORE DELETE ON "bank_postings"
BEGIN SELECT RAISE(ABORT, 'the bank journal is append-only'); END;
CREATE TRIGGER "bank_accounts_user_nonnegative_insert" BEFORE INSERT ON "bank_accounts"
WHEN NEW."kind" <> 'system' AND NEW."balance" < 0
BEGIN SELECT RAISE(ABORT, 'a user account balance cannot be negative'); END;
CREATE TRIGGER "bank_accounts_user_nonnegative_update" BEFORE UPDATE ON "bank_accounts"
WHEN NEW."kind" <> 'system' AND NEW."balance" < 0
BEGIN SELECT RAISE(ABORT, 'a user account balance cannot be negative'); END;
CREATE TRIGGER "bank_holds_nonnegative_insert" BEFORE INSERT ON "bank_holds"
WHEN NEW."remaining" < 0
BEGIN SELECT RAISE(ABORT, 'a hold cannot hold a negative amount'); END;
CREATE TRIGGER "bank_holds_nonnegative_update" BEFORE UPDATE ON "bank_holds"
WHEN NEW."remaining" < 0
BEGIN SELECT RAISE(ABORT, 'a hold cannot hold a negative amount'); END;
