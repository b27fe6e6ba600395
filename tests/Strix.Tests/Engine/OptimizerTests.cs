using Strix.Tasks;
using Strix.Engine.Optim;
using Strix.Models;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace Strix.Tests.Engine;

public class OptimizerTests
{
    static readonly double[][] Grads = { new[] { 0.5, 0.1, -0.3 }, new[] { -0.2, 0.4, 0.0 }, new[] { 0.3, -0.1, 0.2 } };

    /// <summary>Three steps from θ = [1, −2, 0.5]; expected values computed with torch.optim (PyTorch 1.13, float64).</summary>
    [Theory]
    [InlineData("SGD", 0.9, 0.01, 0.817657258191, -2.10747249087, 0.560843716341)]
    [InlineData("SGD-plain", 0.9, 0.01, 0.867064749, -2.081811608, 0.5583834295)]
    [InlineData("Adam", 0.9, 0.1, 0.779112160766, -1.90670938358, 0.627643334901)]
    [InlineData("AdamW", 0.9, 0.1, 0.78362998948, -2.17753125265, 0.657119063225)]
    public void Matches_torch_optim(string name, double momentum, double decay, double e0, double e1, double e2)
    {
        var p = new Parameter(tensor(new[] { 1.0, -2.0, 0.5 }));
        var group = new ParamGroup("g", new[] { ("p", p) }, lr: 0.1, momentum: momentum, weightDecay: decay);
        Optimizer opt = name switch
        {
            "SGD" => new Sgd(new[] { group }, nesterov: true),
            "SGD-plain" => new Sgd(new[] { group }, nesterov: false),
            "Adam" => new Adam(new[] { group }, decoupledWeightDecay: false),
            _ => new Adam(new[] { group }, decoupledWeightDecay: true),
        };
        foreach (var g in Grads)
        {
            p.grad = tensor(g);
            opt.Step();
        }
        var got = p.detach().data<double>().ToArray();
        Assert.Equal(e0, got[0], 1e-9);
        Assert.Equal(e1, got[1], 1e-9);
        Assert.Equal(e2, got[2], 1e-9);
    }

    [Fact]
    public void First_sgd_step_by_hand()
    {
        // g = 0.5 + 0.01·1 = 0.51; b = 0.51; Nesterov g = 0.51 + 0.9·0.51 = 0.969; θ = 1 − 0.1·0.969.
        var p = new Parameter(tensor(new[] { 1.0 }));
        var opt = new Sgd(new[] { new ParamGroup("g", new[] { ("p", p) }, 0.1, 0.9, 0.01) });
        p.grad = tensor(new[] { 0.5 });
        opt.Step();
        Assert.Equal(0.9031, p.detach().item<double>(), 1e-12);
        Assert.Equal(0.51, opt.StateTensors().Single().Value.item<double>(), 1e-12);
    }

    [Fact]
    public void State_round_trips_by_parameter_name_and_parameters_without_grad_are_skipped()
    {
        var a = new Parameter(tensor(new[] { 1.0, 2.0 }));
        var frozen = new Parameter(tensor(new[] { 3.0 }));
        var opt = new Adam(new[] { new ParamGroup("g", new[] { ("a", a), ("frozen", frozen) }, 0.1, 0.9) }, decoupledWeightDecay: true);
        a.grad = tensor(new[] { 0.1, -0.1 });
        opt.Step();
        Assert.Equal(3.0, frozen.detach().item<double>());
        var names = opt.StateTensors().Select(kv => kv.Key).ToList();
        Assert.Equal(new[] { "a/exp_avg", "a/exp_avg_sq", "a/step" }, names);

        var b = new Parameter(a.detach().clone());
        var opt2 = new Adam(new[] { new ParamGroup("g", new[] { ("a", b), ("frozen", new Parameter(tensor(new[] { 3.0 }))) }, 0.5, 0.9) }, decoupledWeightDecay: true);
        opt2.LoadState(opt.GroupsState(), opt.StateTensors().ToList());
        Assert.Equal(0.1, opt2.ParamGroups[0].Lr);
        a.grad = tensor(new[] { 0.3, 0.2 }); b.grad = tensor(new[] { 0.3, 0.2 });
        opt.Step(); opt2.Step();
        Assert.Equal(a.detach().data<double>().ToArray(), b.detach().data<double>().ToArray());
    }

    [Fact]
    public void Yolo_groups_split_biases_norm_weights_and_decayed_weights()
    {
        using var model = DetectionModel.Create("yolov8n", 3);
        var split = ParameterGroups.Classify(model);
        // Every Conv has conv.weight (decay) + bn.weight (no decay) + bn.bias; the 6 head 1×1 convs have weight + bias;
        // the DFL conv is frozen and left out.
        int convs = model.modules().OfType<Strix.Nn.Conv>().Count();
        Assert.Equal(convs + 6, split.Weights.Count);
        Assert.Equal(convs, split.NormWeights.Count);
        Assert.Equal(convs + 6, split.Biases.Count);
        Assert.All(split.NormWeights, p => Assert.EndsWith(".bn.weight", p.Name));
        Assert.All(split.Biases, p => Assert.EndsWith(".bias", p.Name));
        Assert.DoesNotContain(split.Weights, p => p.Name.Contains("dfl"));
        Assert.Equal(model.parameters().Count(p => p.requires_grad), split.Weights.Count + split.NormWeights.Count + split.Biases.Count);

        var groups = YoloOptimizer.Groups(model, 0.01, 0.937, 0.0005);
        Assert.Equal(new[] { "bias", "weight", "bn" }, groups.Select(g => g.Name));
        Assert.Equal(new[] { 0.0, 0.0005, 0.0 }, groups.Select(g => g.WeightDecay));
    }

    [Fact]
    public void Gradient_clipping_scales_to_the_max_norm_like_torch()
    {
        var a = new Parameter(zeros(2)); var b = new Parameter(zeros(1));
        a.grad = tensor(new[] { 3f, 0f }); b.grad = tensor(new[] { 4f });
        var norm = GradientClipping.ClipGradNorm(new[] { a, b }, 1.0);
        Assert.Equal(5f, norm.item<float>(), 1e-6f);
        Assert.Equal(0.6f, a.grad!.data<float>()[0], 1e-5f);
        Assert.Equal(0.8f, b.grad!.data<float>()[0], 1e-5f);
        GradientClipping.ClipGradNorm(new[] { a, b }, 10.0); // under the limit: unchanged
        Assert.Equal(0.6f, a.grad!.data<float>()[0], 1e-5f);
    }
}
