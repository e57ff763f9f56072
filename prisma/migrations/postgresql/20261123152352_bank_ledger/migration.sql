-- CreateTable
CREATE TABLE "bank_accounts" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "balance" BIGINT NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "bank_accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bank_holds" (
    "id" TEXT NOT NULL,
    "account" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "held" BIGINT NOT NULL,
    "captured" BIGINT NOT NULL DEFAULT 0,
    "released" BIGINT NOT NULL DEFAULT 0,
    "remaining" BIGINT NOT NULL,
    "job" TEXT,
    "memo" TEXT,
    "version" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "closedAt" TIMESTAMP(3),

    CONSTRAINT "bank_holds_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bank_transactions" (
    "seq" SERIAL NOT NULL,
    "id" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "job" TEXT,
    "slice" INTEGER,
    "worker" TEXT,
    "hold" TEXT,
    "memo" TEXT,
    "idempotencyKey" TEXT,
    "fingerprint" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "bank_transactions_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "bank_postings" (
    "transactionSeq" INTEGER NOT NULL,
    "leg" INTEGER NOT NULL,
    "account" TEXT,
    "hold" TEXT,
    "amount" BIGINT NOT NULL,

    CONSTRAINT "bank_postings_pkey" PRIMARY KEY ("transactionSeq","leg")
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

-- AddForeignKey
ALTER TABLE "bank_postings" ADD CONSTRAINT "bank_postings_transactionSeq_fkey" FOREIGN KEY ("transactionSeq") REFERENCES "bank_transactions"("seq") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Ledger rules the models cannot express (hand-written): the journal is append-only, user
-- balances and hold remainders never go below zero.
CREATE FUNCTION "bank_journal_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the bank journal is append-only';
END;
$$;
CREATE TRIGGER "bank_transactions_append_only" BEFORE UPDATE OR DELETE ON "bank_transactions"
FOR EACH ROW EXECUTE FUNCTION "bank_journal_append_only"();
CREATE TRIGGER "bank_postings_append_only" BEFORE UPDATE OR DELETE ON "bank_postings"
FOR EACH ROW EXECUTE FUNCTION "bank_journal_append_only"();
ALTER TABLE "bank_accounts" ADD CONSTRAINT "bank_accounts_user_nonnegative" CHECK ("kind" = 'system' OR "balance" >= 0);
ALTER TABLE "bank_holds" ADD CONSTRAINT "bank_holds_nonnegative" CHECK ("remaining" >= 0);
