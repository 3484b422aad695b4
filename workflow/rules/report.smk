# Reporting stage: the paper's tables (CSV + markdown), the claims verdicts, and the figures.


rule make_table:
    input:
        metrics=get_table_metrics,
        timing=get_table_timing,
    output:
        table=report(
            "results/table{table}.csv",
            caption="../report/tables.rst",
            category="Tables",
            labels={"table": "{table}"},
        ),
        markdown="results/table{table}.md",
    log:
        "logs/make_table/table{table}.log",
    conda:
        ENV
    params:
        experiments=get_table_experiments,
        regions=get_table_region_sources,
        data_source=lookup(dpath="data/source", within=config),
    script:
        "../scripts/make_table.py"


rule judge_claims:
    input:
        metrics=get_claims_metrics(),
    output:
        claims=report(
            "results/claims.csv", caption="../report/claims.rst", category="Tables"
        ),
        markdown="results/claims.md",
    log:
        "logs/judge_claims/claims.log",
    conda:
        ENV
    params:
        tables=lookup(dpath="tables", within=config),
        claims=lookup(dpath="claims", within=config),
        data_source=lookup(dpath="data/source", within=config),
        train_steps=get_claims_train_steps(),
    script:
        "../scripts/judge_claims.py"


rule qualitative_figure:
    input:
        unpack(get_test_ground_truth),
        colorized=get_qualitative_inputs,
        references=get_qualitative_references,
        sketches=get_test_sketches,
    output:
        figure=report(
            "results/figures/qualitative_{testset}.png",
            caption="../report/qualitative.rst",
            category="Figures",
            labels={"test set": "{testset}"},
        ),
    log:
        "logs/qualitative_figure/{testset}.log",
    conda:
        ENV
    params:
        footnote=FIGURE_FOOTNOTE,
        experiments=lookup(dpath="tables/table1", within=config),
        n_sketches=lookup(dpath="eval/figure_sketches", within=config),
    script:
        "../scripts/qualitative_figure.py"


rule multicolor_figure:
    input:
        generator=f"results/train/full/seed{FIRST_SEED}/generator.pt",
        sketches="results/data/test/sketch_xdog.npz",
        regions=f"results/regions/{FULL_SOURCE}/test_xdog.npz",
    output:
        figure=report(
            "results/figures/multicolor.png",
            caption="../report/multicolor.rst",
            category="Figures",
        ),
    log:
        "logs/multicolor_figure/full.log",
    conda:
        ENV
    params:
        footnote=FIGURE_FOOTNOTE,
        style_prior=lookup(dpath="eval/style_prior", within=config),
    script:
        "../scripts/multicolor_figure.py"


rule grad_cosine_figure:
    input:
        runs=get_grad_cosine_runs(),
    output:
        figure=report(
            "results/figures/grad_cosine.png",
            caption="../report/grad_cosine.rst",
            category="Figures",
        ),
    log:
        "logs/grad_cosine_figure/all.log",
    conda:
        ENV
    script:
        "../scripts/grad_cosine_figure.py"


rule region_comparison_figure:
    input:
        unpack(get_region_figure_inputs),
    output:
        figure=report(
            "results/figures/{comparison}_colorized.png",
            caption="../report/region_comparison.rst",
            category="Figures",
            labels={"comparison": "{comparison}"},
        ),
    log:
        "logs/region_comparison_figure/{comparison}.log",
    conda:
        ENV
    params:
        footnote=FIGURE_FOOTNOTE,
        sources=get_region_figure_sources,
        title=get_region_figure_title,
        n_sketches=lookup(dpath="eval/figure_sketches", within=config),
    script:
        "../scripts/region_comparison_figure.py"


rule learning_curves_figure:
    input:
        runs=get_learning_curve_runs(),
    output:
        figure=report(
            "results/figures/learning_curves.png",
            caption="../report/learning_curves.rst",
            category="Figures",
        ),
    log:
        "logs/learning_curves_figure/all.log",
    conda:
        ENV
    params:
        title="Learning curves on a fixed test-set-A subset (EMA generator at every snapshot), first seed",
    script:
        "../scripts/learning_curves_figure.py"


rule claims_learning_curves_figure:
    input:
        runs=get_claims_learning_curve_runs(),
    output:
        figure=report(
            "results/figures/learning_curves_claims.png",
            caption="../report/learning_curves_claims.rst",
            category="Figures",
        ),
    log:
        "logs/learning_curves_figure/claims.log",
    conda:
        ENV
    params:
        title="Learning curves of the claimed experiments on a fixed test-set-A subset: mean over the claims seeds, "
        "their range shaded",
    script:
        "../scripts/learning_curves_figure.py"
