-- CreateTable
CREATE TABLE "bridge_chain_accounts" (
    "address" TEXT NOT NULL PRIMARY KEY,
    "balance" BIGINT NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "bridge_chain_head" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "height" INTEGER NOT NULL DEFAULT 0
);

-- CreateTable
CREATE TABLE "bridge_chain_transactions" (
    "blockNumber" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "hash" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "nonce" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "bankTransactionId" TEXT NOT NULL,
    "bankBalance" BIGINT NOT NULL,
    "chainBalance" BIGINT NOT NULL,
    "createdAt" DATETIME NOT NULL
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
CREATE TRIGGER "bridge_chain_accounts_nonnegative_insert" BEFORE INSERT ON "bridge_chain_accounts"
WHEN NEW."balance" < 0
BEGIN SELECT RAISE(ABORT, 'a chain balance cannot be negative'); END;
CREATE TRIGGER "bridge_chain_accounts_nonnegative_update" BEFORE UPDATE ON "bridge_chain_accounts"
WHEN NEW."balance" < 0
BEGIN SELECT RAISE(ABORT, 'a chain balance cannot be negative'); END;
CREATE TRIGGER "bridge_chain_transactions_append_only_update" BEFORE UPDATE ON "bridge_chain_transactions"
BEGIN SELECT RAISE(ABORT, 'the chain is append-only'); END;
CREATE TRIGGER "bridge_chain_transactions_append_only_delete" BEFORE DELETE ON "bridge_chain_transactions"
BEGIN SELECT RAISE(ABORT, 'the chain is append-only'); END;
CREATE TRIGGER "bridge_chain_transactions_valid" BEFORE INSERT ON "bridge_chain_transactions"
WHEN NEW."kind" NOT IN ('deposit', 'withdrawal') OR NEW."amount" <= 0
BEGIN SELECT RAISE(ABORT, 'a chain transaction is a deposit or withdrawal of a positive amount'); END;
