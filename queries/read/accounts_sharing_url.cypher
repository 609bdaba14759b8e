// accounts that posted a given canonical URL, earliest first — $url
MATCH (a:Account)-[:POSTED]->(p:Post)-[:LINKS]->(:Url {url: $url})
RETURN a.uid AS account, a.handle AS handle, a.platform AS platform, p.uid AS post, p.created_at AS at
ORDER BY at, account, post
