from tests.api.helpers import API, application_body, register

async def test_probe(client, world, fund_id):
    a = await register(client, world)
    body = application_body(a["id"], fund_id)
    body["project"]["type"] = "mining"
    r = await client.post(f"{API}/applications", json=body, headers=world["township"])
    print("NESTED", r.status_code, r.text)
    r = await client.get(f"{API}/applicants", params={"q": "%"}, headers=world["township"])
    print("PCT", r.json()["total"])
    r = await client.get(f"{API}/applications/01a205ed-fbfe-73d1-9b77-abb9d8be3ae7", headers=world["township"])
    print("MISSING", r.status_code, r.text)
    body = application_body(a["id"], fund_id)
    del body["amount_requested"]
    r = await client.post(f"{API}/applications", json=body, headers=world["township"])
    print("MISSINGFIELD", r.status_code, r.text)
