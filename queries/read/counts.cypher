// node and relationship counts by label/type (loaded posts only) — no params
CALL () {
  MATCH (p:Post) WHERE p.platform IS NOT NULL RETURN 'posts' AS what, count(p) AS n
  UNION ALL MATCH (a:Account) RETURN 'accounts' AS what, count(a) AS n
  UNION ALL MATCH (m:Media) RETURN 'media' AS what, count(m) AS n
  UNION ALL MATCH (u:Url) RETURN 'urls' AS what, count(u) AS n
  UNION ALL MATCH (h:Hashtag) RETURN 'hashtags' AS what, count(h) AS n
  UNION ALL MATCH ()-[r:POSTED]->() RETURN 'posted' AS what, count(r) AS n
  UNION ALL MATCH ()-[r:LINKS]->() RETURN 'links' AS what, count(r) AS n
  UNION ALL MATCH ()-[r:TAGS]->() RETURN 'tags' AS what, count(r) AS n
  UNION ALL MATCH ()-[r:HAS_MEDIA]->() RETURN 'has_media' AS what, count(r) AS n
  UNION ALL MATCH ()-[r:REPOSTS]->() RETURN 'reposts' AS what, count(r) AS n
  UNION ALL MATCH (c:Cluster) RETURN 'clusters' AS what, count(c) AS n
  UNION ALL MATCH ()-[r:MEMBER_OF]->() RETURN 'member_of' AS what, count(r) AS n
  UNION ALL MATCH ()-[r:COORDINATED_WITH]->() RETURN 'coordinated_with' AS what, count(r) AS n
}
RETURN what, n ORDER BY what
