// accounts that posted a given media item (sha256:<hex> or platform media key), earliest first — $key
MATCH (a:Account)-[:POSTED]->(p:Post)-[:HAS_MEDIA]->(:Media {key: $key})
RETURN a.uid AS account, a.handle AS handle, a.platform AS platform, p.uid AS post, p.created_at AS at
ORDER BY at, account, post
