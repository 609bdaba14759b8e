// days on which at least $min_accounts accounts active in the data were created — $min_accounts (default 10)
MATCH (a:Account)
WHERE a.created_at IS NOT NULL
WITH a ORDER BY a.uid
WITH date(a.created_at) AS day, collect(a.uid) AS accounts
WHERE size(accounts) >= $min_accounts
RETURN day, size(accounts) AS created, accounts[0..50] AS sample
ORDER BY created DESC, day
