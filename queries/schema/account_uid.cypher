// unique Account.uid — no params
CREATE CONSTRAINT account_uid IF NOT EXISTS FOR (n:Account) REQUIRE n.uid IS UNIQUE
