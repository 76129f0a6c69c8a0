"""The seeds' first model: fit y = 2x with Linear(1, 1) and SGD, then print
the learned weight and bias (``import ember as torch`` is the only change)."""
import ember as torch

x_data = torch.tensor([[1.0], [2.0], [3.0]])
y_data = torch.tensor([[2.0], [4.0], [6.0]])

torch.manual_seed(0)
w = torch.tensor([1.0], requires_grad=True)
b = torch.tensor([0.0], requires_grad=True)

for epoch in range(1000):
    y_pred = x_data * w + b
    loss = ((y_pred - y_data) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= 0.01 * w.grad
        b -= 0.01 * b.grad
    w.grad.zero_()
    b.grad.zero_()
    if epoch % 200 == 0:
        print(f"epoch {epoch:4d}  loss {loss.item():.6f}")

print("w =", w.item())
print("b =", b.item())
print("predict (after training)", 4.0, (torch.tensor([[4.0]]) * w + b).item())
