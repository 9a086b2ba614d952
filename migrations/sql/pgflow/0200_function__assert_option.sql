create function pgflow._assert_option(p_name text, p_value int, p_minimum int)
returns void
language plpgsql
immutable
set search_path to ''
as $$
begin
  if p_value is not null and p_value < p_minimum then
    raise exception using errcode = 'PF007',
      message = format('Invalid option %s = %s: it must be %s or more.', p_name, p_value, p_minimum),
      hint = format('Pass null to use the default, or a value of at least %s.', p_minimum);
  end if;
end;
$$;
