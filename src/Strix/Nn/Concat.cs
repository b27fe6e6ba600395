using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>Concatenates feature maps along channels (the head's skip connections).</summary>
public sealed class Concat : Module<Tensor[], Tensor>
{
    readonly long _dim;
    public Concat(long dim = 1) : base(nameof(Concat)) { _dim = dim; }
    /// <summary>The dimension concatenated along.</summary>
    public long Dimension => _dim;
    public override Tensor forward(Tensor[] xs) => cat(xs, _dim);
}
