"""The bad-input corpus (``tests/fixtures/bad_audio.py``) sent in one batch to the web app's upload
endpoint, over real HTTP (issue 14): the valid clips are stored, each invalid one is refused with
its name and reason, and the counts add up."""

import pytest

from tests.fixtures.bad_audio import OK, make_bad_audio

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_one_batch_of_every_case_keeps_the_valid_and_names_each_refusal(client, tmp_path):
    # A directory and a dangling symlink cannot be uploaded; the 2-hour file is over the server's
    # 2 MB limit (tests/app/test_routes.py checks that refusal).
    cases = [c for c in make_bad_audio(tmp_path, include_long=False) if c.path.is_file()]
    files = [("files", (c.path.name, c.path.read_bytes(), "application/octet-stream")) for c in cases]
    response = client.post("/api/recordings", files=files)
    assert response.status_code == 201, response.text
    body = response.json()
    good = [c for c in cases if c.predict == OK]
    assert len(body["recordings"]) == len(good)
    refused = {r["name"]: r for r in body["refused"]}
    assert sorted(refused) == sorted(c.path.name for c in cases if c.predict != OK)
    for case in cases:
        if case.predict != OK:
            error = refused[case.path.name]["error"]
            assert case.path.name in error, error
            assert any(w in error.lower() for w in case.predict_reason), (case.name, error)
