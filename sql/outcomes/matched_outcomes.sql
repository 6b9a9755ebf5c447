-- matched_outcomes: each matched row with its unit's outcomes, and whether a comparison
-- started the programme during its own after window (contamination, which biases the
-- estimate towards no effect). {{ matched }} is matched_units, or matcher_output for a
-- sensitivity analysis's matched sets.
SELECT
    m.subclass,
    m.unit_id,
    o.person_id,
    m.treat,
    m.weight,
    o.offences_before,
    o.offences_after,
    o.days_at_risk_after,
    o.first_after_day,
    o.later_start_date - o.index_date AS start_day,
    m.treat = 0 AND o.later_start_date IS NOT NULL
        AND o.later_start_date < o.index_date + $after_days AS contaminated
FROM {{ matched }} AS m
JOIN unit_outcomes AS o ON o.unit_id = m.unit_id
ORDER BY m.subclass, m.treat DESC, m.unit_id;
