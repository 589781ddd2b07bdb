import pytest

from ser_tf.data import corpora
from ser_tf.errors import DataError, ParameterError


def test_registry_and_aliases():
    assert set(corpora.CORPORA) == {"ravdess", "tess", "cremad", "folder", "emodb", "savee"}
    for module in corpora.CORPORA.values():
        assert module.NAMING_SCHEME and callable(module.scan)
    assert corpora.resolve_corpus_name("CREMA-D") == "cremad"
    assert corpora.resolve_corpus_name("crema_d") == "cremad"
    assert corpora.resolve_corpus_name("Berlin") == "emodb"
    assert corpora.resolve_corpus_name("demo") == corpora.DEMO_CORPUS_NAME
    with pytest.raises(DataError, match="unknown corpus 'iemocap'.*'ravdess'"):
        corpora.scan_corpus("iemocap", "/tmp")


def test_scan_corpus_dispatches_with_options(tmp_path, write_wav):
    write_wav(tmp_path / "Actor_01" / "03-01-05-01-01-01-01.wav")
    write_wav(tmp_path / "Actor_01" / "03-02-05-01-01-01-01.wav")
    result = corpora.scan_corpus("ravdess", tmp_path, vocal_channels=["song"])
    assert [r.fields["vocal_channel"] for r in result.records] == ["song"]
    with pytest.raises(ParameterError, match=r"no option\(s\) \['demographics'\]"):
        corpora.scan_corpus("ravdess", tmp_path, demographics="x.csv")
    with pytest.raises(DataError, match="no corpus folder given"):
        corpora.scan_corpus("tess")
    with pytest.raises(DataError, match="does not exist"):
        corpora.scan_corpus("savee", tmp_path / "missing")

