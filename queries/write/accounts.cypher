// upsert accounts — $rows: [{uid, props}]
UNWIND $rows AS row
MERGE (a:Account {uid: row.uid})
SET a += row.props
