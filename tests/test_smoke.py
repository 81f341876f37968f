async def test_health_reports_database_and_redis(client):
    response = await client.get("/health")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


async def test_world_builds(world):
    assert world.fund_id
