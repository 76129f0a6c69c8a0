"""Printing: ember's repr equals torch's for the same tensor."""
import pytest
import torch

import ember

cases = [
 "T.tensor([1,2,3])*0.5", "T.tensor([[1,2],[3,4]])", "T.tensor([1e-5, 1.])", "T.tensor(3.)",
 "T.arange(2000.)", "T.arange(2000)", "T.zeros(2,3,dtype=T.int32)", "T.ones(0)", "T.ones(2,0)",
 "T.tensor([True, False])", "T.tensor([1.5, float('nan'), float('inf')])", "T.tensor([100000000., 1.])",
 "T.arange(60.).reshape(3,4,5)", "T.arange(3000.).reshape(30,100)/7", "T.tensor([1., -2.], requires_grad=True)",
 "T.tensor([1., -2.], requires_grad=True)*2", "T.tensor([[0.1234567, 123.5]], dtype=T.float64)",
 "T.tensor([1,2], dtype=T.uint8)", "T.tensor([1.5], dtype=T.float16)", "T.tensor(5)", "T.tensor([-0.0, 0.0])",
 "T.arange(30.).reshape(2,15)*1000.123", "T.zeros(2,3)", "T.tensor([1.+2j, 3-4j])",
 "T.Size([2,3])", "T.tensor([[1., 2.]]).sum(1)", "T.arange(10).reshape(2,5).max(1)",
]


@pytest.mark.parametrize("expr", cases)
def test_repr_matches_torch(expr):
    assert repr(eval(expr, {"T": ember})) == repr(eval(expr, {"T": torch}))
