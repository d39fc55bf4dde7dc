import pytest


@pytest.mark.django_db
def test_front_page_shows_registers_and_live_counts(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert "<code>statistical-geography</code>" in html
    # Entity types by their singular name, with the code beside it.
    assert "<tr><td>Unitary authority <code>E06</code></td>" in html
