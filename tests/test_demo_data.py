"""``load_demo_data`` loads the contract's demo rows on request, once."""

import pytest
from contract_ddl import contract
from django.core.management import call_command

from programs.models import Feature, Product, Program, Standard, StandardAssignment


@pytest.mark.django_db
def test_demo_data_is_not_loaded_by_default():
    assert not Program.objects.exists()
    assert not Standard.objects.exists()


@pytest.mark.django_db
def test_demo_data_loads_once(capsys):
    demo = contract()["demo_data"]
    call_command("load_demo_data")
    call_command("load_demo_data")
    assert "0 rows inserted" in capsys.readouterr().out.splitlines()[-1]
    for model, key in [
        (Program, "programs"),
        (Product, "products"),
        (Feature, "features"),
        (Standard, "standards"),
        (StandardAssignment, "standard_assignments"),
    ]:
        assert model.objects.count() == len(demo[key]), key
    motus = Product.objects.get(pk="motus")
    assert (motus.program_id, motus.version) == ("motus-cli", "0.4.5")
