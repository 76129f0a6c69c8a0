"""Gradient buffers (issue 7 levers): a Linear's weight gradient reaches
``.grad`` C-contiguous without a copy, and a leaf's ``.grad`` never shares
memory with an array the caller or another gradient still holds."""
import numpy as np

import ember
import torch
from oracle import assert_close


def _linear_grads(lib, x, w, b):
    x, w, b = (lib.tensor(a, requires_grad=r) for a, r in ((x, False), (w, True), (b, True)))
    (lib.nn.functional.linear(x, w, b) ** 2).sum().backward()
    return w, b


def test_linear_gradients_c_contiguous_and_equal_to_torch():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    we, be = _linear_grads(ember, x, w, b)
    wt, bt = _linear_grads(torch, x, w, b)
    assert_close(we.grad, wt.grad)
    assert_close(be.grad, bt.grad)
    assert we.grad.is_contiguous() and be.grad.is_contiguous()
    # the .grad arrays are fresh: nothing else refers to their memory
    assert not np.shares_memory(we.grad.numpy(), be.grad.numpy())


def test_mm_gradient_of_transposed_operand_in_its_layout():
    a = ember.randn(4, 3, requires_grad=True)
    w = ember.randn(5, 3, requires_grad=True)
    (a @ w.t()).sum().backward()
    ta, tw = (torch.tensor(t.detach().numpy(), requires_grad=True) for t in (a, w))
    (ta @ tw.t()).sum().backward()
    assert_close(a.grad, ta.grad)
    assert_close(w.grad, tw.grad)
    assert w.grad.is_contiguous()


def test_grad_does_not_alias_a_callers_gradient_view():
    """backward(G.t()): the leaf's gradient is G itself seen through two
    transposes; .grad must be a copy, not the caller's memory."""
    w = ember.zeros(3, 2, requires_grad=True)
    G = ember.ones(3, 2)
    w.t().backward(G.t())
    w.grad += 1
    assert G.numpy().tolist() == [[1.0, 1.0]] * 3
    assert not np.shares_memory(w.grad.numpy(), G.numpy())


def test_two_leaves_fed_views_of_one_gradient_get_separate_buffers():
    a = ember.zeros(2, 3, requires_grad=True)
    b = ember.zeros(3, 2, requires_grad=True)
    c = ember.zeros(6, requires_grad=True)
    y = a + b.t() + c.view(2, 3)  # one gradient array reaches all three
    (y * 2).sum().backward()
    grads = [t.grad.numpy() for t in (a, b, c)]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not np.shares_memory(grads[i], grads[j])
    a.grad += 1
    assert b.grad.numpy().tolist() == [[2.0, 2.0]] * 3
    assert c.grad.numpy().tolist() == [2.0] * 6
