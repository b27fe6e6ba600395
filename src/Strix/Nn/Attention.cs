using TorchSharp;
using Strix.Runtime;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>
/// Multi-head self-attention over the positions of a feature map (YOLO11's position-sensitive attention):
/// one 1×1 conv makes queries, keys (key_dim = head_dim · attn_ratio each) and values (head_dim) per head;
/// softmax(qᵀk / √key_dim) mixes the values over all H·W positions; a depth-wise 3×3 conv of the values
/// adds the position encoding; a 1×1 conv projects the sum.
/// </summary>
public sealed class Attention : Module<Tensor, Tensor>
{
    public Conv qkv, proj, pe;

    public int NumHeads { get; }
    public int HeadDim { get; }
    public int KeyDim { get; }
    /// <summary>1/√key_dim, the logit scale.</summary>
    public double ScaleFactor { get; }

    public Attention(int dim, int numHeads = 8, double attnRatio = 0.5) : base(nameof(Attention))
    {
        if (numHeads < 1 || dim % numHeads != 0) throw new ArgumentException($"Attention({dim}): {numHeads} heads do not divide the channels");
        NumHeads = numHeads;
        HeadDim = dim / numHeads;
        KeyDim = (int)(HeadDim * attnRatio);
        ScaleFactor = Math.Pow(KeyDim, -0.5);
        int h = dim + 2 * KeyDim * numHeads;
        qkv = new Conv(dim, h, 1, act: false);
        proj = new Conv(dim, dim, 1, act: false);
        pe = new Conv(dim, dim, 3, 1, g: dim, act: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[1], hgt = x.shape[2], wid = x.shape[3], n = hgt * wid;
        var parts = qkv.call(x).view(b, NumHeads, 2 * KeyDim + HeadDim, n).split(new long[] { KeyDim, KeyDim, HeadDim }, 2);
        Tensor q = parts[0], k = parts[1], v = parts[2];
        using var logitScale = ScaleFactor.ToScalar();
        var attn = q.transpose(-2, -1).matmul(k).mul(logitScale).softmax(-1);
        var mixed = v.matmul(attn.transpose(-2, -1)).view(b, c, hgt, wid);
        var y = mixed.add(pe.call(v.reshape(b, c, hgt, wid)), Scalars.One);
        return proj.call(y).MoveToOuterDisposeScope();
    }
}
