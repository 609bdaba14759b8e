// unique Hashtag.tag — no params
CREATE CONSTRAINT hashtag IF NOT EXISTS FOR (n:Hashtag) REQUIRE n.tag IS UNIQUE
