from tests.conftest import PASSWORD


def test_login_and_me(client, create_user, auth):
    user = create_user("patient")
    r = auth.login(user)
    assert r.status_code == 200, r.get_json()
    me = client.get("/api/v1/me").get_json()
    assert me["email"] == user.email
    assert me["patient"]["shipping_address"]["city"] == "Albany"
