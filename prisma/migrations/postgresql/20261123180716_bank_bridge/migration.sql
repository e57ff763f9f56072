-- CreateTable
CREATE TABLE "bridge_chain_accounts" (
    "address" TEXT NOT NULL,
    "balance" BIGINT NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "bridge_chain_accounts_pkey" PRIMARY KEY ("address")
);

-- CreateTable
CREATE TABLE "bridge_chain_head" (
    "id" INTEGER NOT NULL,
    "height" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "bridge_chain_head_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bridge_chain_transactions" (
    "blockNumber" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "nonce" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "bankTransactionId" TEXT NOT NULL,
    "bankBalance" BIGINT NOT NULL,
    "chainBalance" BIGINT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "bridge_chain_transactions_pkey" PRIMARY KEY ("blockNumber")
);

-- CreateIndex
CREATE UNIQUE INDEX "bridge_chain_transactions_hash_key" ON "bridge_chain_transactions"("hash");

-- CreateIndex
CREATE UNIQUE INDEX "bridge_chain_transactions_bankTransactionId_key" ON "bridge_chain_transactions"("bankTransactionId");

-- CreateIndex
CREATE INDEX "bridge_chain_transactions_address_blockNumber_idx" ON "bridge_chain_transactions"("address", "blockNumber");

-- CreateIndex
CREATE UNIQUE INDEX "bridge_chain_transactions_address_nonce_key" ON "bridge_chain_transactions"("address", "nonce");

-- Bridge rules the models cannot express (hand-written): the chain starts at block 0, chain
-- balances never go below zero, chain transactions are append-only.
INSERT INTO "bridge_chain_head" ("id", "height") VALUES (1, 0);
ALTER TABLE "bridge_chain_accounts" ADD CONSTRAINT "bridge_chain_accounts_nonnegative" CHECK ("balance" >= 0);
ALTER TABLE "bridge_chain_transactions" ADD CONSTRAINT "bridge_chain_transactions_kind" CHECK ("kind" IN ('deposit', 'withdrawal'));
ALTER TABLE "bridge_chain_transactions" ADD CONSTRAINT "bridge_chain_transactions_amount_positive" CHECK ("amount" > 0);
CREATE FUNCTION "bridge_chain_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the chain is append-only';
END;
$$;
CREATE TRIGGER "bridge_chain_transactions_append_only" BEFORE UPDATE OR DELETE ON "bridge_chain_transactions"
FOR EACH ROW EXECUTE FUNCTION "bridge_chain_append_only"();
