"""Reading users' CSV files (dialects, headers, bad rows) and encoding them for training."""

from __future__ import annotations

import pytest

from studio.core.csv_table import (
    CsvImportSettings,
    encode_table,
    import_csv,
    infer_task,
    read_csv_table,
)
from studio.core.errors import DatasetError


def _write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def _table(tmp_path, text, **kwargs):
    return read_csv_table(_write(tmp_path, text), **kwargs)


def _encode(tmp_path, text, **settings):
    return encode_table(_table(tmp_path, text), CsvImportSettings(**settings))


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_detected(tmp_path, delimiter):
    text = "\n".join(delimiter.join(row) for row in
                     [["a", "b", "c"], ["1", "x", "2.5"], ["3", "y", "4.5"]]) + "\n"
    table = _table(tmp_path, text)
    assert table.delimiter == delimiter
    assert table.columns == ("a", "b", "c")
    assert table.rows == (("1", "x", "2.5"), ("3", "y", "4.5"))


def test_semicolon_file_with_decimal_commas_is_not_read_as_comma(tmp_path):
    table = _table(tmp_path, "w;h\n1,5;2,0\n3,5;4,0\n")
    assert table.delimiter == ";"
    assert table.rows == (("1.5", "2.0"), ("3.5", "4.0"))  # decimal commas read as numbers


def test_delimiter_and_header_can_be_given(tmp_path):
    table = _table(tmp_path, "a;b,c\n1;2,3\n", delimiter=",", header=False)
    assert table.columns == ("column_1", "column_2")
    assert table.rows == (("a;b", "c"), ("1;2", "3"))


def test_numbers_only_file_has_no_header(tmp_path):
    table = _table(tmp_path, "1,2.5,3\n4,5.5,6\n")
    assert not table.has_header
    assert table.columns == ("column_1", "column_2", "column_3")
    assert len(table.rows) == 2


def test_text_only_file_with_header_and_without(tmp_path):
    with_header = _table(tmp_path, "name,colour\nann,red\nbob,blue\ncat,red\n")
    assert with_header.has_header and with_header.columns == ("name", "colour")
    without = _table(tmp_path, "ann,red\nbob,blue\ncat,red\n")
    assert not without.has_header and len(without.rows) == 3


def test_duplicate_and_empty_header_names_are_made_unique(tmp_path):
    table = _table(tmp_path, "a,a,,b\n1,2,3,4\n")
    assert table.has_header
    assert table.columns == ("a", "a_2", "column_3", "b")


def test_quoted_fields_keep_delimiters_and_newlines(tmp_path):
    table = _table(tmp_path, 'id,note,score\n1,"red, green",2\n2,"two\nlines",3\n3,x,4\n')
    assert table.rows[0] == ("1", "red, green", "2")
    assert table.rows[1] == ("2", "two\nlines", "3")
    assert len(table.rows) == 3


def test_bom_and_crlf_are_handled(tmp_path):
    table = _table(tmp_path, b"\xef\xbb\xbfname,value\r\nann,1\r\nbob,2\r\n")
    assert table.columns == ("name", "value")
    assert table.rows == (("ann", "1"), ("bob", "2"))


def test_max_rows_limits_data_rows_after_the_header(tmp_path):
    table = _table(tmp_path, "a,b\n" + "".join(f"{i},{i}\n" for i in range(10)), max_rows=3)
    assert table.rows == (("0", "0"), ("1", "1"), ("2", "2"))
    assert _table(tmp_path, "1,2\n3,4\n5,6\n", max_rows=2).rows == (("1", "2"), ("3", "4"))


def test_missing_tokens_become_none_and_cells_are_stripped(tmp_path):
    table = _table(tmp_path, "a,b,c,d\n NA , n/a ,nan,x \nNULL,?,NaN,\n1,2,3,4\n")
    assert table.rows[:2] == ((None, None, None, "x"), (None, None, None, None))
    assert table.rows[2] == ("1", "2", "3", "4")


def test_column_info_reports_kind_missing_and_examples(tmp_path):
    table = _table(tmp_path, "size,colour\n1.5,red\nNA,blue\n2,red\n3,\n")
    size, colour = table.columns_info
    assert (size.name, size.kind, size.missing, size.distinct) == ("size", "numeric", 1, 3)
    assert size.examples == ("1.5", "2", "3")
    assert (colour.kind, colour.missing, colour.distinct) == ("categorical", 1, 2)
    assert table.column_info("colour") == colour
    assert table.column_info(0) == size


@pytest.mark.parametrize("body, content", [
    ("a,b\n1,2\n3,4,5\n6,7\n", "row 3 has 3 values but the first row has 2"),
    ('a,b\n"x\ny",2\n3\n', "row 3 has 1 value but"),
    ("a,b\n\n1,2\n3\n", "row 4 has 1 value but"),
])
def test_ragged_row_names_file_and_spreadsheet_row(tmp_path, body, content):
    with pytest.raises(DatasetError, match=rf"data\.csv {content}"):
        _table(tmp_path, body)


def test_non_utf8_file_is_refused_with_advice(tmp_path):
    path = _write(tmp_path, "name,city\nann,Köln\n".encode("latin-1"), name="cities.csv")
    with pytest.raises(DatasetError, match=r"cities\.csv is not UTF-8.*CSV UTF-8"):
        read_csv_table(path)


@pytest.mark.parametrize("content", [b"", b"\n\r\n  \n", b"\xef\xbb\xbf"])
def test_empty_file_is_refused(tmp_path, content):
    with pytest.raises(DatasetError, match=r"data\.csv is empty"):
        _table(tmp_path, content)


def test_missing_file_is_a_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match=r"Cannot read .*nothing\.csv: "):
        read_csv_table(tmp_path / "nothing.csv")


@pytest.mark.parametrize("target, expected", [
    ("species", "classification"),  # text
    ("grade", "classification"),     # few whole numbers, repeated
    ("price", "regression"),         # fractions
    ("count", "regression"),         # whole numbers, but nearly all different
])
def test_task_is_inferred_from_the_target(tmp_path, target, expected):
    rows = "".join(f"{s},{i % 3},{i * 1.25},{i * 7}\n"
                   for i, s in enumerate(["a", "b", "c", "a", "b", "c", "a", "b"]))
    table = _table(tmp_path, "species,grade,price,count\n" + rows)
    assert infer_task(table, target) == expected


def test_task_setting_overrides_inference(tmp_path):
    text = "x,grade\n1,0\n2,1\n3,0\n4,1\n5,0\n"
    assert _encode(tmp_path, text, target="grade").task == "classification"
    encoded = _encode(tmp_path, text, target="grade", task="regression")
    assert encoded.task == "regression"
    assert encoded.y == [0.0, 1.0, 0.0, 1.0, 0.0] and encoded.class_names == ()


def test_categorical_features_are_one_hot_in_sorted_order(tmp_path):
    encoded = _encode(tmp_path, "colour,size,label\nred,1.5,yes\nblue,2,no\ngreen,3,yes\n",
                      target="label")
    assert encoded.feature_names == ("colour=blue", "colour=green", "colour=red", "size")
    assert encoded.x == [[0.0, 0.0, 1.0, 1.5], [1.0, 0.0, 0.0, 2.0], [0.0, 1.0, 0.0, 3.0]]
    assert encoded.class_names == ("no", "yes")
    assert encoded.y == [1, 0, 1]
    assert encoded.task == "classification" and encoded.dropped_rows == 0
    assert encoded.summary.startswith("3 rows, 4 input values, predicting 'label' (2 classes)")


def test_class_names_sort_numbers_by_value(tmp_path):
    text = "x,y\n" + "".join(f"{i},{label}\n" for i, label in enumerate(["10", "2", "1"] * 4))
    encoded = _encode(tmp_path, text, target="y", task="classification")
    assert encoded.class_names == ("1", "2", "10")
    assert encoded.y[:3] == [2, 1, 0]


GAPS = "a,colour,t\n1,red,0.5\nNA,blue,1.5\n4,,2.5\n7,blue,NA\n10,red,3.5\n13,blue,4.5\n"


def test_drop_leaves_out_rows_with_any_gap(tmp_path):
    encoded = _encode(tmp_path, GAPS, target="t", missing="drop", task="regression")
    assert encoded.dropped_rows == 3
    assert encoded.x == [[1.0, 0.0, 1.0], [10.0, 0.0, 1.0], [13.0, 1.0, 0.0]]
    assert encoded.y == [0.5, 3.5, 4.5]
    assert "3 rows with missing values left out" in encoded.summary


def test_fill_uses_mean_and_mode_but_drops_rows_without_target(tmp_path):
    encoded = _encode(tmp_path, GAPS, target="t", missing="fill", task="regression")
    assert encoded.dropped_rows == 1  # the row whose target is NA
    kept_a = [1.0, 4.0, 10.0, 13.0]  # 'a' in rows with a target, without the NA
    assert encoded.x[1][0] == pytest.approx(sum(kept_a) / len(kept_a))
    # 'colour' among kept rows: red, blue, (gap), red, blue -> tie, broken alphabetically
    assert encoded.feature_names == ("a", "colour=blue", "colour=red")
    assert encoded.x[2] == [4.0, 1.0, 0.0]
    assert encoded.y == [0.5, 1.5, 2.5, 3.5, 4.5]


def test_fill_mode_picks_the_most_frequent_category(tmp_path):
    encoded = _encode(tmp_path, "c,t\nz,1\nz,2\na,3\n?,4\n", target="t", missing="fill",
                      task="regression")
    assert encoded.x == [[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]


def test_only_chosen_features_are_used_and_their_gaps_count(tmp_path):
    encoded = _encode(tmp_path, "a,b,t\n1,NA,x\n2,5,y\n3,6,x\n", target="t", features=("a",))
    assert encoded.feature_names == ("a",)
    assert encoded.x == [[1.0], [2.0], [3.0]] and encoded.dropped_rows == 0


def test_import_csv_reads_and_encodes_with_saved_settings(tmp_path):
    path = _write(tmp_path, "1;red;a\n2;blue;b\n")
    encoded = import_csv(path, CsvImportSettings(target="column_3", header=False))
    assert encoded.feature_names == ("column_1", "column_2=blue", "column_2=red")
    assert encoded.y == [0, 1]


@pytest.mark.parametrize("settings, message", [
    (dict(target="price", task="regression"), r"'price' in data\.csv holds text.*'classification'"),
    (dict(target="nope"), r"data\.csv has no column 'nope'; its columns are: id, a, price"),
    (dict(target="price", features=("a", "zz")), r"no column 'zz'.*id, a, price"),
    (dict(target="price", features=("id",)), r"Column 'id' in data\.csv has 101 different"),
])
def test_unusable_choices_name_the_column(tmp_path, settings, message):
    text = "id,a,price\n" + "".join(f"u{i},{i},{'cheap' if i % 2 else 'dear'}\n"
                                    for i in range(101))
    with pytest.raises(DatasetError, match=message):
        _encode(tmp_path, text, **settings)


def test_regression_target_names_its_first_text_value(tmp_path):
    text = "x,y\n" + "".join(f"{i},{i}\n" for i in range(8)) + "8,unknown\n"
    with pytest.raises(DatasetError, match=r"'y' in data\.csv holds text such as 'unknown'"):
        _encode(tmp_path, text, target="y", task="regression")


def test_no_rows_left_suggests_fill(tmp_path):
    with pytest.raises(DatasetError, match=r"No rows left in data\.csv: all 2 rows.*'fill'"):
        _encode(tmp_path, "a,b,t\n1,NA,1\nNA,2,2\n", target="t")


def test_target_alone_or_with_one_class_is_refused(tmp_path):
    with pytest.raises(DatasetError, match="only the target column 't'"):
        _encode(tmp_path, "t\na\nb\n", target="t")
    with pytest.raises(DatasetError, match=r"only the value 'a'; .*two classes"):
        _encode(tmp_path, "x,t\n1,a\n2,a\n", target="t")


def test_empty_feature_column_cannot_be_filled(tmp_path):
    with pytest.raises(DatasetError, match=r"Column 'b' in data\.csv has no values"):
        _encode(tmp_path, "a,b,t\n1,,x\n2,NA,y\n", target="t", missing="fill")


def test_settings_round_trip_through_json_shapes():
    settings = CsvImportSettings(target="y", features=("a", "b"), missing="fill",
                                 task="regression", delimiter=";", header=True)
    data = settings.to_dict()
    assert data["features"] == ["a", "b"]
    assert CsvImportSettings.from_dict(data) == settings
    assert CsvImportSettings.from_dict({"target": "y"}) == CsvImportSettings(target="y")


@pytest.mark.parametrize("data, message", [
    ([1], "must be an object"),
    ({}, "'target' is missing"),
    ({"target": "y", "colour": 1}, "unknown setting 'colour'"),
    ({"target": ""}, "'target' must be a column name"),
    ({"target": "y", "features": []}, "'features' must be a non-empty list"),
    ({"target": "y", "features": ["a", "a"]}, "feature 'a' is listed twice"),
    ({"target": "y", "features": ["a", "y"]}, "'y' is the target, so it cannot also be a feature"),
    ({"target": "y", "missing": "zero"}, "'missing' must be one of 'drop', 'fill'; got 'zero'"),
    ({"target": "y", "task": "cluster"}, "'task' must be one of 'auto', 'classification', 're"),
    ({"target": "y", "delimiter": ";;"}, "'delimiter' must be one character"),
    ({"target": "y", "delimiter": '"'}, "'delimiter' must be one character"),
    ({"target": "y", "header": "yes"}, "'header' must be true, false or null"),
])
def test_bad_settings_are_refused_with_the_setting_named(data, message):
    with pytest.raises(DatasetError, match=message):
        CsvImportSettings.from_dict(data)


def test_decimal_commas_in_a_semicolon_file_are_numbers(tmp_path):
    path = tmp_path / "de.csv"
    path.write_text("laenge;breite;art\n4,5;1,25;a\n5,0;2;b\n6,75;3,5;a\n", encoding="utf-8")
    table = read_csv_table(path)
    assert table.delimiter == ";"
    assert [info.kind for info in table.columns_info] == ["numeric", "numeric", "categorical"]
    encoded = encode_table(table, CsvImportSettings("art"))
    assert encoded.x[0] == [4.5, 1.25]
