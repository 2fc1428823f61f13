# Real, small work without a model: a matrix product and autograd on the CPU.
import torch

a = torch.arange(12, dtype=torch.float32).reshape(3, 4)
w = torch.ones(4, 2, requires_grad=True)
y = (a @ w).sum()
y.backward()
assert y.item() == 132.0, y.item()
assert w.grad.tolist() == [[12.0, 12.0], [15.0, 15.0], [18.0, 18.0], [21.0, 21.0]], w.grad
print("torch", torch.__version__, "matmul and autograd ok")
