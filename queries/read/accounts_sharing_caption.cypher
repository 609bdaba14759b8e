// accounts that posted a caption whose normalised text equals the given one — $text_norm
MATCH (a:Account)-[:POSTED]->(p:Post {text_norm: $text_norm})
RETURN a.uid AS account, a.handle AS handle, a.platform AS platform, p.uid AS post, p.created_at AS at
ORDER BY at, account, post
