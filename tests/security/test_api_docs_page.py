"""The API docs page runs under the app's policy: nothing inline, data: images on that page only."""

import re


def test_the_api_docs_page_has_no_inline_style_or_script(client, db):
    response = client.get("/api/docs/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<style" not in html and "style=" not in html
    assert all(attributes.strip().startswith("src=") for attributes in re.findall(r"<script([^>]*)>", html))
    assert "/static/crt/api-docs.css" in html


def test_only_the_api_docs_page_allows_data_images(client, db):
    docs = client.get("/api/docs/")["Content-Security-Policy"]
    page = client.get("/accounts/login/")["Content-Security-Policy"]

    assert "img-src 'self' data:;" in docs and "style-src 'self';" in docs
    assert "img-src 'self';" in page
