"""The float64 autograd plumbing the make_<loss>.py references share: leaf tensors, culoss's
reductions of per-row losses, the upstream gradient a backward pass starts from, and the gradient
of an input autograd never reached."""
import torch


def leaf(values):
    """A float64 tensor of values that autograd differentiates by."""
    return torch.tensor(values, dtype=torch.float64).requires_grad_(True)


def grad_of(t):
    """t's gradient, zeros where backward never reached t (no rows, or no backward at all)."""
    return t.grad if t.grad is not None else torch.zeros_like(t)


def upstream_of(reduction, shape, grad_output):
    """What backward starts from: grad_output (shaped like the per-row loss) with reduction none,
    1 otherwise."""
    if reduction == "none":
        return torch.tensor(grad_output, dtype=torch.float64).reshape(shape)
    return torch.tensor(1.0)


def reduce_rows(rows, reduction, count, grad_output):
    """culoss's reductions of per-row losses: none, sum, mean = sum / count (the sum, 0, when count
    is 0, where PyTorch gives NaN). Returns (loss, the upstream gradient for loss.backward)."""
    if reduction == "none":
        loss = rows
    elif reduction == "sum":
        loss = rows.sum()
    elif reduction == "mean":
        loss = rows.sum() / count if count else rows.sum()
    else:
        raise ValueError(reduction)
    return loss, upstream_of(reduction, rows.shape, grad_output)


def log_softmax_rows(x):
    """log p = x - (m + log sum exp(x - m)) per row, m the row max (a constant for autograd)."""
    m = x.detach().max(dim=1, keepdim=True).values if x.shape[0] > 0 else torch.zeros(0, 1)
    lse = m + torch.log(torch.exp(x - m).sum(dim=1, keepdim=True))
    return x - lse
