from tests.ui import make_ticket


def test_pages_render(client, personas):
    t = make_ticket(personas, description="It *burns*")
    client.force_login(personas.agent_desk)
    for url in [
        "/",
        "/desk/",
        "/desk/?queue=unassigned",
        "/desk/?queue=breaching",
        "/desk/?queue=recent",
        "/desk/?queue=teams",
        f"/desk/t/{t.reference}/",
        f"/desk/t/{t.reference}/part/header/",
        f"/desk/t/{t.reference}/part/timeline/",
        f"/desk/t/{t.reference}/part/side/",
        "/desk/responses/",
        "/settings/",
        f"/desk/t/{t.reference}/edit/assignment/",
    ]:
        r = client.get(url, follow=True)
        assert r.status_code == 200, (url, r.content[:3000])
    client.force_login(personas.requester_acme)
    for url in ["/", "/portal/", "/portal/new/", f"/portal/t/{t.reference}/", "/settings/"]:
        r = client.get(url, follow=True)
        assert r.status_code == 200, (url, r.content[:3000])
    client.force_login(personas.lead_desk)
    r = client.get("/desk/dashboard/")
    assert r.status_code == 200
