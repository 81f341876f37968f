async def test_health_reports_database_redis_and_worker(client):
    response = await client.get("/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["database"], body["redis"]) == ("ok", "ok")
    assert body["status"] in ("ok", "degraded") and "worker" in body


async def test_world_builds(world):
    assert world.fund_id
